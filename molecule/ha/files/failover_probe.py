"""Client load on the HA cluster, run on the controller, every acknowledged write recorded by id.

  failover_probe.py run   --config C --phase P --out F [--stop-file S] [--max-seconds N]
  failover_probe.py count --config C --acked F [F ...] --out F

run: until the stop file appears (or --max-seconds), in one thread each, at a bounded rate:
  kafka      KafkaProducer acks=all + idempotence to every broker; an id is acknowledged when its
             future resolves; a second thread records when every partition leader is a live broker
  galera     one INSERT per id with autocommit, through the first answering node of the list; the
             row's token (from phase and id) is the value the CDC check compares in Iceberg
  s3         one PUT per id (AWS signature v4) through the first answering MinIO of the list
  metastore  get_all_databases through the first answering metastore of the list (no data)
Each thread appends (id, time) for every success, and its errors; the JSON written at the end has
for each service: acked ids, the first and last success and the longest gap between two successes
(the time the client could not work through the cluster).

lag: Galera replication lag, N times: INSERT through the first node, then read the row on the
last one (wsrep_sync_wait off, so the read does not wait for replication) until it is there.

front: through the front door's VIP (config "front") and directly, the same data - Galera rows
and the writer node, S3 objects (one PUT through the VIP read back from every node), the
metastore's databases - then the load balancer's overhead: p50/p99 of one S3 GET (a new
connection each) and one MariaDB SELECT 1 (one connection), direct and through the VIP in
alternation, and S3 GETs per second through the VIP.

wait-vip: polls S3's health URL through the VIP every 50 ms (up to --max-seconds) until it
answers 200; writes the seconds since --since (when the front door was broken) and the failures.

count: reads every acked file and looks for each id: Kafka (all partitions, from the start),
Galera (on every node of the list, so a rejoined node must have them too), S3 (list of the
phase's prefix); writes found and lost counts per phase and service.

Addresses come from the config (JSON: the molecule nodes); nothing else is contacted. Kafka's
logins are kafka-python settings in the config: kafka_producer (the load), kafka_consumer (the
count) and kafka_admin (the topic, the leaders). Brokers
advertise their node names, which the nodes' /etc/hosts resolves but the controller's does not:
the probe resolves those names itself, from the config's "hosts".
"""

import argparse
import datetime
import hashlib
import hmac
import json
import os
import socket
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from xml.etree import ElementTree

import pymysql
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

sys.path.insert(0, os.path.join(os.environ["DLFB_ROOT"], ".collections"))
from ansible_collections.datalake_fb.platform.plugins.module_utils.hive_metastore import (
    HiveMetastore,
    tls_context,
)

TOPIC = "failover.probe"
TABLE = "probe.events"
BUCKET = "warehouse"
PREFIX = "failover-probe"
# Bounded load: per service, the pause between two writes (seconds).
PACE = {"kafka": 0.01, "galera": 0.05, "s3": 0.1, "metastore": 0.5}


class Recorder:
    """Successes (id, time) and errors of one service."""

    def __init__(self):
        self.acked, self.errors, self.lock = [], [], threading.Lock()

    def ok(self, ident):
        with self.lock:
            self.acked.append((ident, time.time()))

    def error(self, message):
        with self.lock:
            if len(self.errors) < 50:
                self.errors.append(f"{time.time():.1f} {message}")
            else:
                self.errors[-1] = f"{time.time():.1f} ... and more: {message}"

    def summary(self, started):
        times = sorted(t for _, t in self.acked)
        gaps = [b - a for a, b in zip([started, *times], times, strict=False)]
        return {
            "acked": sorted(i for i, _ in self.acked),
            "first": times[0] if times else None,
            "last": times[-1] if times else None,
            "max_gap_seconds": round(max(gaps), 2) if gaps else None,
            "max_gap_at": round(times[gaps.index(max(gaps))], 1) if gaps else None,
            "errors": self.errors,
        }


def first_answering(hosts, attempt, recorder, state):
    """attempt(host) on the current host; on failure move to the next one (client failover)."""
    host = hosts[state["index"] % len(hosts)]
    try:
        return attempt(host)
    except Exception as error:  # noqa: BLE001 - every failure is recorded and the client moves on
        recorder.error(f"{host}: {type(error).__name__}: {error}")
        state["index"] += 1
        state.pop("conn", None)
        time.sleep(0.5)
        return None


# --- S3 (signature v4, path-style) -------------------------------------------------------------
def s3_request(endpoint, keys, method, path, query="", body=b""):
    access_key, secret_key = keys
    url = urllib.parse.urlsplit(endpoint)
    now = datetime.datetime.now(datetime.UTC)
    stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    payload = hashlib.sha256(body).hexdigest()
    headers = {"host": url.netloc, "x-amz-content-sha256": payload, "x-amz-date": stamp}
    signed = ";".join(sorted(headers))
    canonical = "\n".join(
        [method, urllib.parse.quote(path), query]
        + [f"{k}:{headers[k]}" for k in sorted(headers)]
        + ["", signed, payload]
    )
    scope = f"{day}/us-east-1/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret_key).encode()
    for part in (day, "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={signed}, Signature={signature}"
    )
    request = urllib.request.Request(
        f"{endpoint}{urllib.parse.quote(path)}" + (f"?{query}" if query else ""),
        data=body if method == "PUT" else None,
        headers=headers,
        method=method,
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.read()


def s3_list(endpoint, keys, prefix):
    names, token = set(), None
    while True:
        params = {"list-type": "2", "prefix": prefix}
        if token:
            params["continuation-token"] = token
        query = "&".join(f"{k}={urllib.parse.quote(v, safe='')}" for k, v in sorted(params.items()))
        root = ElementTree.fromstring(s3_request(endpoint, keys, "GET", f"/{BUCKET}", query))
        ns = {"s3": root.tag.split("}")[0].strip("{")}
        names.update(e.text for e in root.findall("s3:Contents/s3:Key", ns))
        token = root.findtext("s3:NextContinuationToken", namespaces=ns)
        if not token:
            return names


# --- the load ----------------------------------------------------------------------------------
def kafka_load(config, phase, stop, recorder):
    producer = KafkaProducer(
        bootstrap_servers=config["kafka"],
        acks="all",
        enable_idempotence=True,
        retries=2**31 - 1,
        # a request to a killed broker is given up after 5 s and retried on the new leader
        request_timeout_ms=5000,
        delivery_timeout_ms=300000,
        max_in_flight_requests_per_connection=5,
        **config["kafka_producer"],
    )
    ident = 0
    while not stop.is_set():
        ident += 1
        future = producer.send(TOPIC, f"{phase}:{ident}".encode())
        future.add_callback(lambda _meta, i=ident: recorder.ok(i))
        future.add_errback(lambda error, i=ident: recorder.error(f"id {i}: {error}"))
        time.sleep(PACE["kafka"])
    producer.flush(timeout=300)
    producer.close()


def kafka_leaders(config, stop, victim_id_file, record):
    """The time at which no partition of the probe topic is led by the killed broker any more.

    The victim file holds the broker's id, the kill time and the node's address; the metadata is
    asked of the live brokers only (a client bootstrapping through the dead one first waits out its
    connection timeouts, which once made this read 34 s while producers were writing after 9 s).
    """
    admin = None
    while not stop.is_set():
        time.sleep(0.5)
        if not os.path.exists(victim_id_file):
            continue
        with open(victim_id_file, encoding="utf-8") as handle:
            victim, killed_at, victim_ip = handle.read().split()
        live = [broker for broker in config["kafka"] if broker.rsplit(":", 1)[0] != victim_ip]
        try:
            admin = admin or KafkaAdminClient(bootstrap_servers=live, request_timeout_ms=3000, **config["kafka_admin"])
            leaders = [p["leader_id"] for p in admin.describe_topics([TOPIC])[0]["partitions"]]
        except (KafkaError, OSError):  # the metadata call fails while the cluster elects
            admin = None
            continue
        if leaders and all(leader not in (-1, int(victim)) for leader in leaders):
            record["kafka_leaders_moved_seconds"] = round(time.time() - float(killed_at), 2)
            return


def client_load(service, hosts, write, stop, recorder):
    """write(host, ident, state) for ids 1, 2, ... through the first answering host, paced."""
    state, ident = {"index": 0}, 0
    while not stop.is_set():
        ident += 1
        if first_answering(hosts, lambda host, i=ident: write(host, i, state), recorder, state):
            recorder.ok(ident)
        time.sleep(PACE[service])


def galera_connect(config, address, **options):
    """A connection to the probe database on one Galera node, given as host:port, over TLS (the
    server's certificate and name checked against the lab's CA)."""
    host, port = address.rsplit(":", 1)
    return pymysql.connect(
        host=host,
        port=int(port),
        user="probe",
        password=config["galera_password"],
        database="probe",
        ssl_ca=config["ca_file"],
        ssl_verify_cert=True,
        ssl_verify_identity=True,
        **options,
    )


def row_token(phase, ident):
    """The value a probe row carries: derived from its key, so a copy elsewhere can be checked."""
    return hashlib.sha256(f"{phase}:{ident}".encode()).hexdigest()[:16]


def galera_load(config, phase, stop, recorder):
    def insert(address, ident, state):
        if "conn" not in state:
            state["conn"] = galera_connect(
                config, address, connect_timeout=3, read_timeout=10, write_timeout=10, autocommit=True
            )
        with state["conn"].cursor() as cursor:
            cursor.execute(
                "INSERT INTO events (phase, id, token) VALUES (%s, %s, %s)", (phase, ident, row_token(phase, ident))
            )
        return True

    client_load("galera", config["galera"], insert, stop, recorder)


def s3_load(config, phase, stop, recorder):
    keys = (config["s3_access_key"], config["s3_secret_key"])

    def put(endpoint, ident, _state):
        s3_request(endpoint, keys, "PUT", f"/{BUCKET}/{PREFIX}/{phase}/{ident}", body=str(ident).encode())
        return True

    client_load("s3", config["s3"], put, stop, recorder)


def metastore_load(config, _phase, stop, recorder):
    # the metastore speaks TLS: its certificate and name are checked against the lab's CA
    tls = tls_context(config["ca_file"])

    def call(address, _ident, _state):
        host, port = address.rsplit(":", 1)
        with HiveMetastore(host, int(port), 5, tls) as metastore:
            return "default" in metastore.databases()

    client_load("metastore", config["metastore"], call, stop, recorder)


def resolve_node_names(hosts):
    """getaddrinfo that knows the lab's node names (the brokers' advertised listeners)."""
    system_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        return system_getaddrinfo(hosts.get(host, host), *args, **kwargs)

    socket.getaddrinfo = getaddrinfo


def run(args, config):
    if config.get("create_topic"):
        admin = KafkaAdminClient(bootstrap_servers=config["kafka"], **config["kafka_admin"])
        try:
            admin.create_topics([NewTopic(TOPIC, num_partitions=3, replication_factor=3)])
        except TopicAlreadyExistsError:
            pass
        admin.close()
    socket.setdefaulttimeout(10)
    stop, started, record = threading.Event(), time.time(), {}
    recorders = {name: Recorder() for name in ("kafka", "galera", "s3", "metastore")}
    loads = {"kafka": kafka_load, "galera": galera_load, "s3": s3_load, "metastore": metastore_load}
    threads = [
        threading.Thread(target=loads[name], args=(config, args.phase, stop, recorders[name]), daemon=True)
        for name in loads
    ]
    if args.victim_file:
        threads.append(
            threading.Thread(target=kafka_leaders, args=(config, stop, args.victim_file, record), daemon=True)
        )
    for thread in threads:
        thread.start()
    while time.time() - started < args.max_seconds and not os.path.exists(args.stop_file or "/nonexistent"):
        time.sleep(0.5)
    stop.set()
    for thread in threads:
        thread.join(timeout=320)
    record.update(phase=args.phase, started=started, stopped=time.time())
    record["services"] = {name: recorder.summary(started) for name, recorder in recorders.items()}
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(record, handle)


# --- counting ----------------------------------------------------------------------------------
def kafka_found(config):
    consumer = KafkaConsumer(bootstrap_servers=config["kafka"], enable_auto_commit=False, **config["kafka_consumer"])
    parts = [TopicPartition(TOPIC, p) for p in consumer.partitions_for_topic(TOPIC)]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    end, found = consumer.end_offsets(parts), {}
    deadline = time.time() + 300
    while any(consumer.position(p) < end[p] for p in parts) and time.time() < deadline:
        for records in consumer.poll(timeout_ms=1000).values():
            for message in records:
                phase, ident = message.value.decode().split(":")
                found.setdefault(phase, set()).add(int(ident))
    consumer.close()
    return found


def galera_found(config, address):
    conn = galera_connect(config, address)
    with conn.cursor() as cursor:
        cursor.execute("SELECT phase, id FROM events")
        rows = cursor.fetchall()
    conn.close()
    found = {}
    for phase, ident in rows:
        found.setdefault(phase, set()).add(ident)
    return found


def count(args, config):
    kafka = kafka_found(config)
    galera = {address: galera_found(config, address) for address in config["galera"]}
    keys = (config["s3_access_key"], config["s3_secret_key"])
    report = {}
    for path in args.acked:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
        phase, services = record["phase"], record["services"]
        s3 = {int(name.rsplit("/", 1)[1]) for name in s3_list(config["s3"][-1], keys, f"{PREFIX}/{phase}/")}
        found = {"kafka": {"all": kafka.get(phase, set())}, "s3": {"all": s3}}
        found["galera"] = {host: rows.get(phase, set()) for host, rows in galera.items()}
        report[phase] = {}
        for service, where in found.items():
            acked = set(services[service]["acked"])
            lost = {place: sorted(acked - ids)[:20] for place, ids in where.items() if acked - ids}
            report[phase][service] = {
                "acked": len(acked),
                "found": min(len(acked & ids) for ids in where.values()),
                "lost": max(len(acked - ids) for ids in where.values()),
                "lost_examples": lost,
            }
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
    print(json.dumps(report))


def lag(args, config):
    writer = galera_connect(config, config["galera"][0], autocommit=True)
    reader, delays = galera_connect(config, config["galera"][-1], autocommit=True), []
    with writer.cursor() as write, reader.cursor() as read:
        read.execute("SET SESSION wsrep_sync_wait = 0")
        for ident in range(1, args.samples + 1):
            write.execute("INSERT INTO events (phase, id) VALUES ('lag', %s)", (ident,))
            committed = time.perf_counter()
            while not read.execute("SELECT 1 FROM events WHERE phase = 'lag' AND id = %s", (ident,)):
                time.sleep(0.0005)
            delays.append(time.perf_counter() - committed)
        write.execute("DELETE FROM events WHERE phase = 'lag'")
    delays.sort()
    report = {
        "samples": len(delays),
        "p50_ms": round(delays[len(delays) // 2] * 1000, 2),
        "p99_ms": round(delays[int(len(delays) * 0.99) - 1] * 1000, 2),
        "max_ms": round(delays[-1] * 1000, 2),
    }
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(report, handle)
    print(json.dumps(report))


def percentiles(samples):
    samples = sorted(samples)
    return {
        "p50_ms": round(samples[len(samples) // 2] * 1000, 3),
        "p99_ms": round(samples[int(len(samples) * 0.99) - 1] * 1000, 3),
    }


def overhead(direct_call, vip_call, samples):
    """Latency of each call, alternated so both see the same moment of the cluster; VIP minus direct."""
    times = {"direct": [], "vip": []}
    for _ in range(samples):
        for name, call in (("direct", direct_call), ("vip", vip_call)):
            started = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - started)
    report = {name: percentiles(values) for name, values in times.items()}
    report["overhead_p50_ms"] = round(report["vip"]["p50_ms"] - report["direct"]["p50_ms"], 3)
    report["overhead_p99_ms"] = round(report["vip"]["p99_ms"] - report["direct"]["p99_ms"], 3)
    report["samples"] = samples
    return report


def front(args, config):
    vip, keys = config["front"], (config["s3_access_key"], config["s3_secret_key"])
    direct_s3, direct_galera = config["s3"][0], config["galera"][0]

    def rows(address):
        with galera_connect(config, address) as conn, conn.cursor() as cursor:
            cursor.execute("SELECT COUNT(*), MAX(id) FROM events")
            counted = list(cursor.fetchone())
            cursor.execute("SELECT @@hostname")
            return counted, cursor.fetchone()[0]

    def databases(address):
        host, port = address.rsplit(":", 1)
        with HiveMetastore(host, int(port), 5, tls_context(config["ca_file"])) as metastore:
            return sorted(metastore.databases())

    key = f"/{BUCKET}/{PREFIX}/front-door/{int(time.time())}"
    s3_request(vip["s3"], keys, "PUT", key, body=b"through the VIP")
    vip_rows, writer = rows(vip["mariadb"])
    direct_rows, _ = rows(direct_galera)
    report = {
        "galera": {"vip": vip_rows, "direct": direct_rows, "writer": writer},
        "s3": {
            "vip_listed": len(s3_list(vip["s3"], keys, PREFIX)),
            "direct_listed": len(s3_list(direct_s3, keys, PREFIX)),
            "put_through_vip_read_on": {e: s3_request(e, keys, "GET", key).decode() for e in config["s3"]},
        },
        "metastore": {"vip": databases(vip["metastore"]), "direct": databases(config["metastore"][0])},
    }
    with galera_connect(config, direct_galera) as direct, galera_connect(config, vip["mariadb"]) as through:
        report["overhead"] = {
            "s3_get": overhead(
                lambda: s3_request(direct_s3, keys, "GET", key),
                lambda: s3_request(vip["s3"], keys, "GET", key),
                args.samples,
            ),
            "mariadb_select": overhead(
                lambda: direct.cursor().execute("SELECT 1"), lambda: through.cursor().execute("SELECT 1"), args.samples
            ),
        }
    started, gets = time.perf_counter(), 0
    while time.perf_counter() - started < 5:
        s3_request(vip["s3"], keys, "GET", key)
        gets += 1
    report["throughput"] = {
        "s3_gets_per_second_through_vip": round(gets / (time.perf_counter() - started), 1),
        "clients": 1,
    }
    s3_request(vip["s3"], keys, "DELETE", key)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(report, handle)
    print(json.dumps(report))


def wait_vip(args, config):
    url, failures = f"{config['front']['s3']}/minio/health/live", 0
    deadline = time.time() + args.max_seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=0.5) as reply:
                if reply.status == 200:
                    break
        except OSError:
            failures += 1
        time.sleep(0.05)
    else:
        sys.exit(f"{url} did not answer within {args.max_seconds} s")
    report = {"answered_after_seconds": round(time.time() - args.since, 2), "failed_requests": failures}
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(report, handle)
    print(json.dumps(report))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["run", "count", "lag", "front", "wait-vip"])
    parser.add_argument("--config", required=True)
    parser.add_argument("--phase")
    parser.add_argument("--out", required=True)
    parser.add_argument("--stop-file")
    parser.add_argument("--victim-file")
    parser.add_argument("--max-seconds", type=float, default=1800)
    parser.add_argument("--acked", nargs="*", default=[])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--since", type=float, default=0)
    args = parser.parse_args()
    with open(args.config, encoding="utf-8") as handle:
        config = json.load(handle)
    resolve_node_names(config["hosts"])
    # S3 speaks TLS: every urllib request checks the server's certificate against the lab's CA
    tls = ssl.create_default_context(cafile=config["ca_file"])
    urllib.request.install_opener(urllib.request.build_opener(urllib.request.HTTPSHandler(context=tls)))
    modes = {"run": run, "count": count, "lag": lag, "front": front, "wait-vip": wait_vip}
    modes[args.mode](args, config)


if __name__ == "__main__":
    main()
