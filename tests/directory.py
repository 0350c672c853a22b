"""A real OpenLDAP server (Debian's slapd) for the directory-login tests.

``slapd_server`` (session) starts slapd on free ports with its own slapd.conf, an mdb database,
the memberof overlay, a small Active-Directory-like schema (``sAMAccountName``,
``userAccountControl``, ``employeeID``) and a throwaway CA and server certificate for ldaps://
and StartTLS; it stops slapd after the session. ``directory`` (per test) loads an AD-like set of
entries, points the app's ``LDAP_*`` settings at the server and removes the entries afterwards.
Import both into a test module or conftest to use them.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from ldap3 import MODIFY_ADD, MODIFY_DELETE, MODIFY_REPLACE, Connection, Server

SLAPD = "/usr/sbin/slapd"
SUFFIX = "dc=stadt,dc=example"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "root-secret"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
SERVICE_DN = f"cn=schulung-app,ou=services,{SUFFIX}"
SERVICE_PASSWORD = "service-secret"
HR_GROUP = f"cn=Schulung-HR,{GROUPS}"
ADMIN_GROUP = f"cn=Schulung-Admin,{GROUPS}"
#: AD's userAccountControl for a normal account, and with the "disabled" bit (0x2).
NORMAL_ACCOUNT = 512
DISABLED_ACCOUNT = 514

# The attributes and class Active Directory has, with AD's OIDs, so entries look like AD's.
AD_SCHEMA = """
attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl'
  EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.35 NAME 'employeeID'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.4203.666.11.1414.1 NAME 'adLikeAccount' AUXILIARY
  MAY ( sAMAccountName $ userAccountControl $ employeeID ) )
"""


@dataclass(frozen=True)
class DirectoryServer:
    url: str
    ldaps_url: str
    ca_file: str

    def admin(self) -> Connection:
        """A connection bound as the directory's root, to change entries in a test."""
        return Connection(Server(self.url), ROOT_DN, ROOT_PASSWORD, auto_bind=True)


#: The people in the directory: login name -> (employeeID, mail, password, account control).
PEOPLE_ENTRIES = {
    "ademir": ("000123", "aylin.demir@stadt.example", "Aylins-Passwort-1", NORMAL_ACCOUNT),
    "mschulz": ("000456", "max.schulz@stadt.example", "Max-Passwort-22", NORMAL_ACCOUNT),
    "ngashi": ("000789", "nora.gashi@stadt.example", "Noras-Passwort-3", DISABLED_ACCOUNT),
    "jkoch": ("000999", "jana.koch@stadt.example", "Janas-Passwort-4", NORMAL_ACCOUNT),
    "extern": ("", "it-dienstleister@extern.example", "Extern-Passwort-5", NORMAL_ACCOUNT),
}


def person_dn(login: str) -> str:
    return f"cn={login},{PEOPLE}"


def password_of(login: str) -> str:
    return PEOPLE_ENTRIES[login][2]


@pytest.fixture(scope="session")
def slapd_server(tmp_path_factory):
    """Debian's slapd on two free ports (ldap:// with StartTLS, ldaps://) for the session."""
    if not Path(SLAPD).exists():
        pytest.fail(f"{SLAPD} is missing: `make test` installs Debian's slapd (make slapd)")
    if shutil.which("openssl") is None:
        pytest.fail("openssl is missing: `make test` installs it (make slapd)")
    folder = tmp_path_factory.mktemp("slapd")
    ca_file = _make_certificates(folder)
    (folder / "data").mkdir()
    (folder / "ad-like.schema").write_text(AD_SCHEMA)
    (folder / "slapd.conf").write_text(_slapd_conf(folder))
    port, tls_port = _free_port(), _free_port()
    url, ldaps_url = f"ldap://127.0.0.1:{port}", f"ldaps://127.0.0.1:{tls_port}"
    # -d keeps slapd in the foreground (a child of this process, stopped below).
    with (folder / "slapd.log").open("wb") as log:  # slapd keeps its own copy of the handle
        process = subprocess.Popen(
            [SLAPD, "-d", "0", "-h", f"{url}/ {ldaps_url}/", "-f", str(folder / "slapd.conf")],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        _wait_until_listening(process, port, folder / "slapd.log")
        server = DirectoryServer(url=url, ldaps_url=ldaps_url, ca_file=str(ca_file))
        with server.admin() as admin:
            _add_tree(admin)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def directory(slapd_server, app, monkeypatch):
    """The AD-like people and groups, and the app configured to log in through them."""
    with slapd_server.admin() as admin:
        for login, (number, mail, password, control) in PEOPLE_ENTRIES.items():
            attributes = {
                "objectClass": ["inetOrgPerson", "adLikeAccount"],
                "sn": login,
                "uid": login,
                "sAMAccountName": login,
                "mail": mail,
                "userPassword": password,
                "userAccountControl": str(control),
            }
            if number:  # AD's name for it, and OpenLDAP's
                attributes["employeeID"] = attributes["employeeNumber"] = number
            assert admin.add(person_dn(login), attributes=attributes), admin.result
        groups = {HR_GROUP: [person_dn("mschulz"), person_dn("extern")], ADMIN_GROUP: [ROOT_DN]}
        for group, members in groups.items():
            assert admin.add(group, ["groupOfNames"], {"member": members}), admin.result
    settings = {
        "LDAP_URL": slapd_server.url,
        "LDAP_START_TLS": False,
        "LDAP_CA_FILE": None,
        "LDAP_BIND_DN": SERVICE_DN,
        "LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
        "LDAP_USER_BASE": PEOPLE,
        "LDAP_LOGIN_ATTRIBUTE": "sAMAccountName",
        "LDAP_PERSONNEL_NUMBER_ATTRIBUTE": "employeeID",
        "LDAP_MAIL_ATTRIBUTE": "mail",
        "LDAP_ID_ATTRIBUTE": "entryUUID",
        "LDAP_TIMEOUT": 5,
        "LDAP_USER_FILTER": "",
        "LDAP_GROUP_HR": HR_GROUP,
        "LDAP_GROUP_ADMIN": ADMIN_GROUP,
        "LDAP_GROUP_MEMBERSHIP": "memberOf",
    }
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    yield slapd_server
    with slapd_server.admin() as admin:
        for dn in (HR_GROUP, ADMIN_GROUP, *(person_dn(login) for login in PEOPLE_ENTRIES)):
            admin.delete(dn)


def set_group_members(server: DirectoryServer, group: str, *, add=(), remove=()) -> None:
    """Change a group's members (the memberof overlay updates the people's memberOf)."""
    with server.admin() as admin:
        changes = {}
        if add:
            changes["member"] = [(MODIFY_ADD, list(add))]
        if remove:
            changes.setdefault("member", []).append((MODIFY_DELETE, list(remove)))
        assert admin.modify(group, changes), admin.result


def set_attribute(server: DirectoryServer, dn: str, name: str, value: str) -> None:
    with server.admin() as admin:
        assert admin.modify(dn, {name: [(MODIFY_REPLACE, [value])]}), admin.result


def _slapd_conf(folder: Path) -> str:
    schemas = "\n".join(
        f"include /etc/ldap/schema/{name}.schema"
        for name in ("core", "cosine", "inetorgperson", "nis")
    )
    return f"""{schemas}
include {folder}/ad-like.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile {folder}/slapd.pid
argsfile {folder}/slapd.args
TLSCACertificateFile {folder}/ca.pem
TLSCertificateFile {folder}/server.pem
TLSCertificateKeyFile {folder}/server.key

database mdb
suffix "{SUFFIX}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PASSWORD}
directory {folder}/data
maxsize 10485760
overlay memberof
access to attrs=userPassword
  by anonymous auth
  by * none
access to *
  by users read
  by * none
"""


def _add_tree(admin: Connection) -> None:
    entries = [
        (SUFFIX, ["dcObject", "organization"], {"o": "Stadt", "dc": "stadt"}),
        (PEOPLE, ["organizationalUnit"], {"ou": "people"}),
        (GROUPS, ["organizationalUnit"], {"ou": "groups"}),
        (f"ou=services,{SUFFIX}", ["organizationalUnit"], {"ou": "services"}),
        (
            SERVICE_DN,
            ["applicationProcess", "simpleSecurityObject"],
            {"cn": "schulung-app", "userPassword": SERVICE_PASSWORD},
        ),
    ]
    for dn, classes, attributes in entries:
        assert admin.add(dn, classes, attributes), admin.result


def _make_certificates(folder: Path) -> Path:
    """A throwaway CA and a server certificate for 127.0.0.1, made with openssl."""

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    run(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=Test CA", "-keyout", "ca.key", "-out", "ca.pem",
    )  # fmt: skip
    (folder / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", "server.key", "-out", "server.csr",
    )  # fmt: skip
    run(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "server.pem",
    )  # fmt: skip
    return folder / "ca.pem"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_listening(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"slapd did not start: {log.read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail("slapd did not answer within 15 s")
