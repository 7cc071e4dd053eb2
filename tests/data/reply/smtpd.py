#!/usr/bin/env python3
"""A tiny SMTP responder on loopback for the outbox tests.

Writes each received transaction to OUTDIR/N.txt (MAIL FROM, RCPT TO,
AUTH, then DATA exactly as received, dot-unstuffed, CRLF kept) and its
port to OUTDIR/port.  FAIL=4xx|5xx in the environment answers DATA with
that code instead of 250.  With TLS_CERT and TLS_KEY (PEM files) it
offers STARTTLS, logs "STARTTLS <protocol>" once the handshake is done,
and refuses AUTH and MAIL before it (530), as a real submission server
does.  Never listens beyond 127.0.0.1.
"""
import os, socketserver, ssl, sys

OUT = sys.argv[1]
COUNT = [0]

class H(socketserver.StreamRequestHandler):
    def send(self, s):
        self.wfile.write(s.encode() + b"\r\n")

    def handle(self):
        self.send("220 localhost test ESMTP")
        env = []
        tls = None
        if os.environ.get("TLS_CERT"):
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.load_cert_chain(os.environ["TLS_CERT"], os.environ["TLS_KEY"])
        secure = False
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode("latin-1").rstrip("\r\n")
            up = cmd.upper()
            if up.startswith("EHLO"):
                offer = b"250-STARTTLS\r\n" if tls and not secure else b""
                self.wfile.write(b"250-localhost\r\n" + offer +
                                 b"250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n")
            elif up == "STARTTLS" and tls and not secure:
                self.send("220 go ahead")
                self.wfile.flush()
                try:
                    conn = tls.wrap_socket(self.connection, server_side=True)
                except (ssl.SSLError, OSError):
                    return  # the client refused our certificate
                self.connection = conn
                self.rfile = conn.makefile("rb")
                self.wfile = conn.makefile("wb", buffering=0)
                secure = True
                env.append("STARTTLS " + conn.version())
            elif tls and not secure and (up.startswith("AUTH") or
                                         up.startswith("MAIL")):
                self.send("530 must issue a STARTTLS command first")
            elif up.startswith("HELO"):
                self.send("250 localhost")
            elif up.startswith("AUTH"):
                if len(cmd.split()) == 2:  # no initial response
                    self.send("334 ")
                    cmd += " " + self.rfile.readline().decode().strip()
                env.append(cmd)
                self.send("235 ok")
            elif up.startswith("MAIL FROM") or up.startswith("RCPT TO"):
                env.append(cmd)
                self.send("250 ok")
            elif up == "DATA":
                self.send("354 go")
                data = b""
                while True:
                    l = self.rfile.readline()
                    if l in (b".\r\n", b""):
                        break
                    if l.startswith(b".."):
                        l = l[1:]
                    data += l
                COUNT[0] += 1
                with open(os.path.join(OUT, "%d.txt" % COUNT[0]), "wb") as f:
                    f.write(("\n".join(env) + "\n\n").encode())
                    f.write(data)
                env = []
                fail = os.environ.get("FAIL")
                self.send(fail + " test failure" if fail else "250 queued")
            elif up == "RSET":
                env = []
                self.send("250 ok")
            elif up == "QUIT":
                self.send("221 bye")
                return
            else:
                self.send("502 unknown")

class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

srv = S(("127.0.0.1", 0), H)
with open(os.path.join(OUT, "port.tmp"), "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(os.path.join(OUT, "port.tmp"), os.path.join(OUT, "port"))
srv.serve_forever()
