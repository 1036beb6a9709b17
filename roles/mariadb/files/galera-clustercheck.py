#!/usr/bin/python3
"""Answer HTTP 200 when this Galera node can take writes, 503 otherwise (HAProxy's check).

A port check is not enough for a load balancer: a node that is joining, donating a state
transfer or cut off from the Primary component still accepts connections. This asks the local
server over its socket (unix_socket authentication: the database account has this process's
user name and no privilege) and answers 200 only when the node is ready, Synced and Primary.

Usage: galera-clustercheck ADDRESS PORT SOCKET
"""

import getpass
import http.server
import sys

import pymysql

WANTED = {"wsrep_ready": "ON", "wsrep_local_state_comment": "Synced", "wsrep_cluster_status": "Primary"}
QUERY = "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_local_state_comment', 'wsrep_cluster_status')"


def judge(status):
    """(HTTP status, text) for the node's wsrep status variables, or None when the server did not answer."""
    if status is None:
        return 503, "the server does not answer"
    wrong = [f"{name}={status.get(name, 'missing')}" for name, value in WANTED.items() if status.get(name) != value]
    if wrong:
        return 503, "not ready for writes: " + ", ".join(wrong)
    return 200, "Synced"


def read_status(socket_path):
    try:
        connection = pymysql.connect(unix_socket=socket_path, user=getpass.getuser(), connect_timeout=2, read_timeout=2)
    except pymysql.MySQLError:
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute(QUERY)
            return dict(cursor.fetchall())
    except pymysql.MySQLError:
        return None
    finally:
        connection.close()


def handler(socket_path):
    class Check(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            code, text = judge(read_status(socket_path))
            body = (text + "\n").encode("utf-8")
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            """Checks come every few seconds from every load balancer: no log line each."""

    return Check


def main():
    address, port, socket_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    http.server.ThreadingHTTPServer((address, port), handler(socket_path)).serve_forever()


if __name__ == "__main__":
    main()
