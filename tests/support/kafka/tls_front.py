"""A Kafka broker reached over TLS only: a tansu broker of its own, in
memory, behind a TLS front that forwards each connection to it in
plaintext. tansu has no TLS listener, so the front gives it one; the broker
advertises the front's address, so every connection a client makes after
the bootstrap goes through TLS too.

Usage: tls_front.py --make-ca CADIR
       tls_front.py TANSU DIR --ca CADIR [--mutual]
       tls_front.py --to PORT DIR --ca CADIR
The first makes a certificate authority (CADIR/ca.pem and ca.key) and a
client certificate it signed (CADIR/client.pem, client.key: unencrypted
PKCS#8), with the `cryptography` package. The second makes a server
certificate for 127.0.0.1 signed by that authority, starts tansu, then prints
"PORT <front port>" and serves until killed; with --mutual the front takes
only clients presenting a certificate the authority signed (mutual TLS).
The third puts the same kind of front before a plaintext service already
listening on PORT (an emulator), for calls that must go over TLS.
"""
import asyncio
import ctypes
import datetime
import ipaddress
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


VALIDITY = datetime.timedelta(days=1)


def pem(path: Path, value) -> None:
    if hasattr(value, "private_bytes"):
        path.write_bytes(value.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    else:
        path.write_bytes(value.public_bytes(serialization.Encoding.PEM))


def issue(ca_name, ca_key, subject: str, usage, alternative=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder(subject_name=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]),
                                issuer_name=ca_name, public_key=key.public_key(),
                                serial_number=x509.random_serial_number(),
                                not_valid_before=now - datetime.timedelta(minutes=5), not_valid_after=now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if alternative is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName([alternative]), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def make_ca(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hydrator test authority")])
    ca = (
        x509.CertificateBuilder(subject_name=ca_name, issuer_name=ca_name, public_key=ca_key.public_key(),
                                serial_number=x509.random_serial_number(),
                                not_valid_before=now - datetime.timedelta(minutes=5), not_valid_after=now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    client, client_key = issue(ca_name, ca_key, "hydrator", x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH)
    pem(folder / "ca.key", ca_key)
    pem(folder / "client.pem", client)
    pem(folder / "client.key", client_key)
    # Last: its presence says the folder is complete.
    pem(folder / "ca.pem", ca)


def certificates(folder: Path, ca_folder: Path) -> tuple[Path, Path]:
    ca = x509.load_pem_x509_certificate((ca_folder / "ca.pem").read_bytes())
    ca_key = serialization.load_pem_private_key((ca_folder / "ca.key").read_bytes(), None)
    server, key = issue(ca.subject, ca_key, "127.0.0.1", x509.oid.ExtendedKeyUsageOID.SERVER_AUTH,
                        x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    chain, private = folder / "server.pem", folder / "server.key"
    pem(chain, server)
    pem(private, key)
    return chain, private


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def serve(front: int, back: int, context: ssl.SSLContext) -> None:
    async def forward(client_reader, client_writer):
        try:
            broker_reader, broker_writer = await asyncio.open_connection("127.0.0.1", back)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, broker_writer), pipe(broker_reader, client_writer))

    server = await asyncio.start_server(forward, "127.0.0.1", front, ssl=context)
    print(f"PORT {front}", flush=True)
    async with server:
        await server.serve_forever()


def server_context(folder: Path, ca_folder: Path, mutual: bool) -> ssl.SSLContext:
    chain, private = certificates(folder, ca_folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(chain, private)
    if mutual:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(ca_folder / "ca.pem")
    return context


def die_with_parent() -> None:
    """Runs in the broker's process before tansu starts: the test kills the
    front without warning (SIGKILL, on drop), so its `finally` never runs;
    Linux then kills the broker too, rather than leave it running idle."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def main() -> None:
    if sys.argv[1] == "--make-ca":
        make_ca(Path(sys.argv[2]))
        return
    ca_folder = Path(sys.argv[sys.argv.index("--ca") + 1])
    mutual = "--mutual" in sys.argv
    if sys.argv[1] == "--to":
        folder = Path(sys.argv[3])
        folder.mkdir(parents=True, exist_ok=True)
        asyncio.run(serve(free_port(), int(sys.argv[2]), server_context(folder, ca_folder, mutual)))
        return
    tansu, folder = sys.argv[1], Path(sys.argv[2])
    folder.mkdir(parents=True, exist_ok=True)
    front, back = free_port(), free_port()
    broker = subprocess.Popen(
        [tansu, "broker", "--listener-url", f"tcp://127.0.0.1:{back}",
         "--advertised-listener-url", f"tcp://127.0.0.1:{front}", "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL, stderr=(folder / "tansu.log").open("w"),
        preexec_fn=die_with_parent,
    )
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", back), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        asyncio.run(serve(front, back, server_context(folder, ca_folder, mutual)))
    finally:
        broker.kill()


if __name__ == "__main__":
    main()
