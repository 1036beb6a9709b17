"""The common role on a lab node: JRE, kernel settings file, hosts, tools virtualenv."""


def test_java_17_runs(host):
    result = host.run("java -version")
    assert result.rc == 0
    assert 'version "17.' in result.stderr


def test_kernel_settings_file(host):
    settings = host.file("/etc/sysctl.d/60-datalake.conf")
    assert settings.exists
    assert "vm.max_map_count = 262144" in settings.content_string
    assert "vm.swappiness = 1" in settings.content_string


def test_node_names_resolve(host, node):
    assert host.run(f"getent hosts {node['name']}").stdout.split()[0] == node["ip"]
    assert host.run("getent hosts localhost").rc == 0


def test_tools_virtualenv_imports_its_clients(host):
    versions = "import kafka, pymysql; print(kafka.__version__, pymysql.VERSION_STRING)"
    result = host.run(f"/opt/datalake/venv/bin/python -c '{versions}'")
    assert result.rc == 0, result.stderr
    assert result.stdout.split() == ["3.0.12", "1.1.2"]


def test_wheel_came_from_the_artifact_cache_with_its_pin(host):
    assert host.file("/var/cache/datalake-fb/artifacts/kafka_python/kafka_python-3.0.12-py3-none-any.whl").exists
    assert host.file("/var/cache/datalake-fb/artifacts/pymysql/pymysql-1.1.2-py3-none-any.whl").exists
    assert host.file("/var/cache/datalake-fb/artifacts/common.verified").exists
