"""A real SMTP server for rempart-mail's tests (aiosmtpd).

Binds 127.0.0.1 on a free port and prints `listening <port>` once it accepts connections.
Every accepted message is written to --dir as:
  <n>.eml        the DATA bytes exactly as received (dot-stuffing undone, as SMTP says)
  <n>.part<k>    each leaf MIME part, decoded from its transfer encoding (Python's email parser)
  <n>.json       the envelope, whether TLS was active, the AUTH user, decoded headers, the parts
written in that order, before the server answers 250. Exits when its stdin closes.

Options:
  --tls-cert PEM --tls-key PEM   offer STARTTLS with this certificate
  --implicit-tls                 TLS from the first byte instead (needs the certificate)
  --auth USER:PASSWORD           require AUTH (PLAIN or LOGIN, over TLS) with these credentials
  --fail STAGE:TIMES:REPLY       answer REPLY (e.g. "451 4.3.0 Try again later") at STAGE
                                 (mail, rcpt or data) the first TIMES times, or always if 0
"""

import argparse
import asyncio
import email
import email.policy
import json
import logging
import os
import ssl
import sys
import threading

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, out_dir, fails):
        self.out_dir = out_dir
        self.fails = fails  # stage -> [times, reply, used]
        self.count = 0

    def scripted(self, stage):
        f = self.fails.get(stage)
        if f is None:
            return None
        times, reply, used = f
        if times == 0 or used < times:
            f[2] = used + 1
            return reply
        return None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        reply = self.scripted("mail")
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.scripted("rcpt")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = self.scripted("data")
        if reply:
            return reply
        self.count += 1
        n = self.count
        raw = envelope.original_content
        with open(os.path.join(self.out_dir, f"{n}.eml"), "wb") as f:
            f.write(raw)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        parts = []
        for k, part in enumerate(p for p in msg.walk() if not p.is_multipart()):
            name = f"{n}.part{k}"
            with open(os.path.join(self.out_dir, name), "wb") as f:
                f.write(part.get_payload(decode=True) or b"")
            parts.append(
                {
                    "file": name,
                    "content_type": part.get_content_type(),
                    "charset": part.get_content_charset(),
                    "filename": part.get_filename(),
                    "transfer_encoding": part.get("Content-Transfer-Encoding"),
                }
            )
        headers = {}
        for h in ("From", "To", "Reply-To", "Subject", "Message-ID", "Content-Language", "Date"):
            if msg.get(h) is not None:
                headers[h] = str(msg.get(h))
        auth_user = None
        if session.authenticated and isinstance(session.auth_data, LoginPassword):
            auth_user = session.auth_data.login.decode()
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "mail_options": envelope.mail_options,
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "auth_user": auth_user,
            "headers": headers,
            "parts": parts,
        }
        with open(os.path.join(self.out_dir, f"{n}.json"), "w") as f:
            json.dump(record, f)
        return f"250 2.0.0 Ok: queued as Q{n}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--implicit-tls", action="store_true")
    ap.add_argument("--auth")
    ap.add_argument("--fail", action="append", default=[])
    args = ap.parse_args()
    # aiosmtpd warns about its own use of a deprecated attribute
    logging.getLogger("mail.log").setLevel(logging.ERROR)

    fails = {}
    for spec in args.fail:
        stage, times, reply = spec.split(":", 2)
        fails[stage] = [int(times), reply, 0]

    ctx = None
    if args.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)

    authenticator = None
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login == user.encode()
                and auth_data.password == password.encode()
            )
            return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    handler = Handler(args.dir, fails)

    def factory():
        return SMTP(
            handler,
            hostname="smtp.test",
            tls_context=None if args.implicit_tls else ctx,
            authenticator=authenticator,
            auth_required=authenticator is not None,
            auth_require_tls=not args.implicit_tls,
            enable_SMTPUTF8=True,
        )

    # the test holds our stdin: when it ends, so do we
    def watch_stdin():
        sys.stdin.buffer.read()
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()

    async def serve():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            factory, host="127.0.0.1", port=0, ssl=ctx if args.implicit_tls else None
        )
        port = server.sockets[0].getsockname()[1]
        print(f"listening {port}", flush=True)
        await server.serve_forever()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
