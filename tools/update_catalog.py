#!/usr/bin/env python3
"""Regenerate the pinned artifact catalog (roles/artifact_cache/defaults/main/catalog.yml).

Maintainer tool, run by hand when a pin changes: resolves each component's Maven roots with
`mvn dependency:list` (runtime scope, transitive or not), downloads what it lists into a scratch
local repository, and records every file's sha256 next to its Maven Central URL; single Maven
files with a classifier or another extension (a plugin archive) are fetched with
`mvn dependency:get` and recorded the same way. PyPI files take the
sha256 PyPI publishes; Go modules are pinned by module version (the Go toolchain verifies their
go.sum hashes when the cache is filled).
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import subprocess
import sys
import tempfile
import urllib.request

import yaml

MAVEN = "https://repo1.maven.org/maven2"

# component -> (version, [maven roots], transitive?)
MAVEN_COMPONENTS = {
    "kafka": (
        "4.4.0",
        [
            "org.apache.kafka:kafka_2.13:4.4.0",
            # Kafka's tarball ships an SLF4J binding; the Maven POM does not
            "org.apache.logging.log4j:log4j-slf4j-impl:2.25.5",
        ],
        True,
    ),
    # Kafka's command-line tools without their dependencies (Connect, Jetty...): ClusterTool
    # unregisters a removed broker; the core's dependencies cover what it needs
    "kafka_tools": ("4.4.0", ["org.apache.kafka:kafka-tools:4.4.0"], False),
    # Kafka Connect's distributed worker (org.apache.kafka.connect.cli.ConnectDistributed) for change
    # data capture. connect-runtime 4.4.0 pulls slf4j-api 1.7.36, so the SLF4J binding is the kafka
    # component's SLF4J 1 one; Connect logs through log4j2 (and its loggers REST endpoint uses
    # log4j-core directly), so log4j-core is a root of its own rather than left to the binding's POM.
    "kafka_connect": (
        "4.4.0",
        [
            "org.apache.kafka:connect-runtime:4.4.0",
            "org.apache.kafka:connect-json:4.4.0",
            "org.apache.kafka:connect-transforms:4.4.0",
            "org.apache.logging.log4j:log4j-slf4j-impl:2.25.5",
            "org.apache.logging.log4j:log4j-core:2.25.5",
        ],
        True,
    ),
    "iceberg": (
        "1.12.0",
        ["org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:1.12.0", "org.apache.iceberg:iceberg-aws-bundle:1.12.0"],
        False,
    ),
    "hadoop_aws": (
        "3.3.4",
        ["org.apache.hadoop:hadoop-aws:3.3.4", "com.amazonaws:aws-java-sdk-bundle:1.12.262"],
        False,
    ),
    # Spark's Kafka source and sink (Structured Streaming), for Spark 3.5.9: 3.5.7 is the newest
    # spark-sql-kafka-0-10_2.12 on Maven Central (3.5.8 and 3.5.9 are not published), a patch release
    # of the same 3.5 line. Not transitive: Spark's own jars already carry lz4-java, snappy-java,
    # zstd-jni, slf4j, jsr305, spark-tags and hadoop-client-runtime, and the other versions of them
    # kafka-clients asks for would clash on the classpath. kafka-clients 3.4.1 and commons-pool2
    # 2.11.1 are the versions the 3.5.7 POMs declare; neither is among Spark's jars.
    "spark_kafka": (
        "3.5.7",
        [
            "org.apache.spark:spark-sql-kafka-0-10_2.12:3.5.7",
            "org.apache.spark:spark-token-provider-kafka-0-10_2.12:3.5.7",
            "org.apache.kafka:kafka-clients:3.4.1",
            "org.apache.commons:commons-pool2:2.11.1",
        ],
        False,
    ),
    "mariadb_jdbc": ("3.5.11", ["org.mariadb.jdbc:mariadb-java-client:3.5.11"], False),
    # the Prometheus JMX exporter java agent (Kafka, the metastores, ZooKeeper)
    "jmx_exporter": ("1.0.1", ["io.prometheus.jmx:jmx_prometheus_javaagent:1.0.1"], False),
}
# A second, earlier version pinned beside the current one: molecule/ha's rolling-update test moves
# the metastores to it node by node (and an operator can go back to it without a new catalog).
MAVEN_PREVIOUS = {
    "mariadb_jdbc": ("3.5.10", ["org.mariadb.jdbc:mariadb-java-client:3.5.10"], False),
}
# Single Maven files other than a plain jar (a classifier, another extension), taken as they are,
# without dependencies: component -> (version, "group:artifact:version:classifier:extension").
MAVEN_FILES = {
    # Debezium's MariaDB connector as its Kafka Connect plugin archive: one directory,
    # debezium-connector-mariadb/, holding the connector's jars and the libraries it brings, meant
    # for Connect's plugin.path (a class loader of its own, which takes org.apache.kafka classes from
    # the worker, not from the kafka-clients and connect-api jars in it). 3.6.x is not on Maven Central.
    "debezium_mariadb": ("3.5.0.Final", "io.debezium:debezium-connector-mariadb:3.5.0.Final:plugin:tar.gz"),
}
PYPI_FILES = {
    # component: (project, version, filename)
    "spark": ("pyspark", "3.5.9", "pyspark-3.5.9.tar.gz"),
    "kafka_python": ("kafka-python", "3.0.12", "kafka_python-3.0.12-py3-none-any.whl"),
    "pymysql": ("PyMySQL", "1.1.2", "pymysql-1.1.2-py3-none-any.whl"),
}
GO_BINARIES = {
    # component: (module, pseudo-version of the pinned commit, release name). The Go proxy serves
    # no RELEASE.* tags for MinIO, so the pin is the commit; -X stamps the release name in.
    "minio": ("github.com/minio/minio", "v0.0.0-20260212201848-7aac2a2c5b7c", "2026-02-12T20-18-48Z"),
    "mc": ("github.com/minio/mc", "v0.0.0-20250313080218-cf909e1063a9", "2025-03-13T08-02-18Z"),
}

# Jars compiled on the controller from this collection's own Java sources, against jars taken from
# another pinned artifact: component -> (version, source directory, that artifact's file, the jars
# in it). Like Go binaries, their sha256 is recorded in the cache manifest when they are built.
SPARK_JARS = "pyspark-3.5.9/deps/jars/"
JAVA_BUILDS = {
    "sql_security": (
        "0.2.0",
        "tools/sql-security/src",
        "spark/pyspark-3.5.9.tar.gz",
        [
            SPARK_JARS + jar
            for jar in (
                "spark-hive-thriftserver_2.12-3.5.9.jar",
                "spark-catalyst_2.12-3.5.9.jar",
                "spark-sql_2.12-3.5.9.jar",
                "spark-sql-api_2.12-3.5.9.jar",
                "spark-core_2.12-3.5.9.jar",
                "spark-common-utils_2.12-3.5.9.jar",
                "scala-library-2.12.18.jar",
                "slf4j-api-2.0.7.jar",
                "hive-service-rpc-3.1.3.jar",
                "scala-reflect-2.12.18.jar",
                "jackson-databind-2.15.2.jar",
                "jackson-core-2.15.2.jar",
                "jackson-annotations-2.15.2.jar",
                "hadoop-client-api-3.3.4.jar",
                "jsr305-3.0.0.jar",
            )
        ],
    ),
}


def go_ldflags(module: str, version: str, release: str) -> list[str]:
    """Linker flags: strip symbols and stamp the version the binary reports (joined with spaces)."""
    commit = version.rsplit("-", 1)[-1]
    stamp = release[:10] + "T" + release[11:].replace("-", ":")
    pkg = f"{module}/cmd"
    return [
        "-s",
        "-w",
        f"-X {pkg}.Version={stamp}",
        f"-X {pkg}.ReleaseTag=RELEASE.{release}",
        f"-X {pkg}.CommitID={commit}",
        f"-X {pkg}.ShortCommitID={commit}",
        f"-X {pkg}.CopyrightYear={release[:4]}",
    ]


class IndentedDumper(yaml.SafeDumper):
    """Indent list items under their key, as yamllint expects."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


# .yamllint's line-length limit
MAX_LINE = 160


def allow_long_lines(text: str) -> str:
    """Exempt from yamllint's line-length rule the lines that cannot be broken (a long URL)."""
    return "".join(
        f"{line}  # yamllint disable-line rule:line-length\n" if len(line) > MAX_LINE else f"{line}\n"
        for line in text.splitlines()
    )


def sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_maven_file(coords: str, repo: pathlib.Path) -> tuple[str, str, str, str, str]:
    """Download one Maven file, "group:artifact:version:classifier:extension" (classifier may be
    empty), into the local repository, without its dependencies."""
    group, artifact, version, classifier, extension = coords.split(":")
    # dependency:get spells it group:artifact:version:packaging[:classifier]
    spec = ":".join([group, artifact, version, extension] + ([classifier] if classifier else []))
    subprocess.run(
        ["mvn", "-q", "-B", f"-Dmaven.repo.local={repo}", "dependency:get", f"-Dartifact={spec}", "-Dtransitive=false"],
        check=True,
    )
    return group, artifact, version, classifier, extension


def maven_entry(
    component: str,
    version: str,
    coords: tuple[str, str, str, str, str],
    repo: pathlib.Path,
) -> dict:
    """The catalog entry of a file in the local repository: (group, artifact, version, classifier, extension)."""
    group, artifact, art_version, classifier, extension = coords
    filename = f"{artifact}-{art_version}{'-' + classifier if classifier else ''}.{extension}"
    rel = f"{group.replace('.', '/')}/{artifact}/{art_version}/{filename}"
    return {
        "component": component,
        "version": version,
        "name": f"{group}:{artifact}",
        "file": f"{component}/{filename}",
        "source": "maven",
        "url": f"{MAVEN}/{rel}",
        "sha256": sha256(repo / rel),
    }


def resolve_maven(roots: list[str], transitive: bool, repo: pathlib.Path) -> list[tuple[str, str, str]]:
    deps = "".join(
        "<dependency><groupId>{}</groupId><artifactId>{}</artifactId><version>{}</version>{}</dependency>".format(
            *root.split(":"),
            ""
            if transitive
            else "<exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions>",
        )
        for root in roots
    )
    with tempfile.TemporaryDirectory() as work:
        pom = pathlib.Path(work, "pom.xml")
        pom.write_text(
            '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
            "<groupId>lock</groupId><artifactId>lock</artifactId><version>1</version>"
            f"<dependencies>{deps}</dependencies></project>"
        )
        out = pathlib.Path(work, "deps.txt")
        subprocess.run(
            [
                "mvn",
                "-q",
                "-B",
                f"-Dmaven.repo.local={repo}",
                "-f",
                str(pom),
                "dependency:list",
                "-DincludeScope=runtime",
                f"-DoutputFile={out}",
                "-DoutputAbsoluteArtifactFilename=false",
            ],
            check=True,
        )
        coords = []
        for line in out.read_text().splitlines():
            parts = line.strip().split(":")
            if len(parts) >= 5 and parts[2] == "jar":
                coords.append((parts[0], parts[1], parts[3]))
    return sorted(set(coords))


def main() -> int:
    catalog = []
    with tempfile.TemporaryDirectory() as repo_dir:
        repo = pathlib.Path(repo_dir)
        for component, (version, roots, transitive) in [*MAVEN_COMPONENTS.items(), *MAVEN_PREVIOUS.items()]:
            for group, artifact, art_version in resolve_maven(roots, transitive, repo):
                catalog.append(maven_entry(component, version, (group, artifact, art_version, "", "jar"), repo))
        for component, (version, coords) in MAVEN_FILES.items():
            catalog.append(maven_entry(component, version, fetch_maven_file(coords, repo), repo))
    for component, (project, version, filename) in PYPI_FILES.items():
        with urllib.request.urlopen(f"https://pypi.org/pypi/{project}/json") as answer:
            release = json.load(answer)["releases"][version]
        entry = next(item for item in release if item["filename"] == filename)
        catalog.append(
            {
                "component": component,
                "version": version,
                "name": project,
                "file": f"{component}/{filename}",
                "source": "pypi",
                "url": "https://files.pythonhosted.org/packages/" + entry["url"].rsplit("packages/", 1)[-1],
                "sha256": entry["digests"]["sha256"],
            }
        )
    for component, (module, version, release) in GO_BINARIES.items():
        catalog.append(
            {
                "component": component,
                "version": release,
                "name": module,
                "file": f"{component}/{component}",
                "source": "go",
                "module_version": version,
                "ldflags": go_ldflags(module, version, release),
            }
        )
    for component, (version, sources, classpath_file, classpath) in JAVA_BUILDS.items():
        catalog.append(
            {
                "component": component,
                "version": version,
                "name": component,
                "file": f"{component}/datalake-{component.replace('_', '-')}-{version}.jar",
                "source": "java",
                "sources": sources,
                "classpath_file": classpath_file,
                "classpath": classpath,
            }
        )
    header = (
        "---\n# Pinned artifacts: generated by tools/update_catalog.py, do not edit by hand.\n"
        "# Go binaries are pinned by module version; their sha256 is recorded in the cache manifest\n"
        "# when they are built (the Go toolchain checks the sources against go.sum). Java builds are\n"
        "# this collection's own sources, compiled against jars of another pinned artifact.\n"
    )
    target = pathlib.Path(__file__).resolve().parent.parent / "roles/artifact_cache/defaults/main/catalog.yml"
    target.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.dump({"artifact_cache_catalog": catalog}, Dumper=IndentedDumper, sort_keys=False, width=150)
    target.write_text(header + allow_long_lines(text))
    print(f"{len(catalog)} artifacts written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
