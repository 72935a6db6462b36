"""The .netrc file: where it is, how libcurl 8.23 reads it, and which login it yields.

Theory of operation
-------------------
libcurl consults .netrc when CURLOPT_NETRC is NETRC_OPTIONAL or NETRC_REQUIRED and no user
name was set with CURLOPT_USERNAME/CURLOPT_USERPWD (lib/url.c `override_login`). Three pieces
here follow lib/netrc.c, and a fourth follows `override_login`:

1. `netrc_path` names the file: CURLOPT_NETRC_FILE, else $NETRC (when not empty), else
   `<home>/.netrc` where home is $HOME (when not empty) or the password database entry of the
   effective user (on Windows: %USERPROFILE%, and `_netrc` when `.netrc` is missing).
2. `load_netrc` turns the file's bytes into the text libcurl scans (lib/netrc.c
   `file2memory`): line by line, leading blanks removed, lines whose first other character
   is ``#`` dropped (a ``#`` later in a line is an ordinary character), a line cut at a NUL
   byte (and then joined to the next, as C string functions do). A line longer than 16383
   bytes with its newline, or more than 131071 bytes kept in all, is a syntax error.
3. `scan_netrc` finds the login for a host in that text (lib/netrc.c `netrc_scan`, the
   tokenising scanner of libcurl 8.x). Tokens are separated by blanks (space, tab) and line
   ends (CR, LF); any other byte, form feed and vertical tab included, belongs to a token. A
   token starting with ``"`` runs to the next unescaped ``"`` (it may span lines; ``\\n``,
   ``\\r``, ``\\t`` are control characters, ``\\x`` is ``x``); no closing quote is a syntax
   error, as is a token of 4096 bytes or more. Keywords are ``machine``, ``default``,
   ``login``, ``password``, ``account`` and ``macdef``, in any case, never when quoted.
   ``machine NAME`` opens an entry for NAME (compared without regard to ASCII case),
   ``default`` an entry for every host; ``login``, ``password``, ``account`` take the next
   token whatever it is (``login machine`` names the user "machine"); ``macdef`` skips to the
   next empty line; anything else is ignored. An entry ends at the next ``machine``,
   ``default``, ``macdef`` or the end of the text; the last ``login``/``password`` of an entry
   counts. The first entry for the host that has a login (when no login is asked for), or
   that has the asked-for login and a password, or that has a password and no login, is the
   answer. A login without a password gives an empty password, a password without a login an
   empty user name.
4. `netrc_credentials` applies that to a transfer as `override_login` does (see there).

Errors are NETRCcode values (`NetrcStatus`). libcurl turns FILE_MISSING and SYNTAX_ERROR into
CURLE_READ_ERROR with the message ".netrc error: no such file" / ".netrc error: syntax error"
when .netrc is REQUIRED, and ignores them when it is OPTIONAL; NO_MATCH is never an error.
HTTP allows control characters in credentials, so libcurl's "control code detected in .netrc
credentials" check (protocols without PROTOPT_USERPWDCTRL) does not apply to us.

Every rule above was checked against libcurl 8.23 through pycurl (tests/unit/test_netrc.py).
Only `read_netrc_file` and `netrc_path` touch the outside world (a local file, the
environment, the password database); everything else is a pure function of its arguments.
"""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .._codes import E_READ_ERROR
from .._consts import NETRC_IGNORED, NETRC_OPTIONAL, NETRC_REQUIRED
from .._errors import CurlError

__all__ = [
    "MAX_NETRC_FILE",
    "MAX_NETRC_LINE",
    "MAX_NETRC_TOKEN",
    "NETRC_IGNORED",
    "NETRC_OPTIONAL",
    "NETRC_REQUIRED",
    "NetrcError",
    "NetrcLogin",
    "NetrcMatch",
    "NetrcStatus",
    "load_netrc",
    "lookup_netrc",
    "netrc_credentials",
    "netrc_path",
    "read_netrc_file",
    "scan_netrc",
]

# lib/netrc.c: each is the size of a dynbuf, which holds one byte less (its NUL).
MAX_NETRC_LINE = 16384
MAX_NETRC_FILE = 128 * 1024
MAX_NETRC_TOKEN = 4096


class NetrcStatus(enum.IntEnum):
    """libcurl's NETRCcode (lib/netrc.h), in its order."""

    OK = 0
    FILE_MISSING = 1
    NO_MATCH = 2
    OUT_OF_MEMORY = 3
    SYNTAX_ERROR = 4

    @property
    def message(self) -> str:
        """`Curl_netrc_strerror`: the text after ".netrc error: "."""
        return _MESSAGES.get(self, "")


_MESSAGES = {
    NetrcStatus.FILE_MISSING: "no such file",
    NetrcStatus.NO_MATCH: "no matching entry",
    NetrcStatus.OUT_OF_MEMORY: "out of memory",
    NetrcStatus.SYNTAX_ERROR: "syntax error",
}


class NetrcError(Exception):
    """A .netrc file could not be used; `status` says why (FILE_MISSING or SYNTAX_ERROR)."""

    def __init__(self, status: NetrcStatus) -> None:
        super().__init__(status.message)
        self.status = status

    def to_curl_error(self) -> CurlError:
        """The error libcurl ends a transfer with when .netrc is REQUIRED."""
        return CurlError(E_READ_ERROR, f".netrc error: {self.status.message}")


@dataclass(frozen=True)
class NetrcMatch:
    """The entry found for a host: None where the entry had no such token."""

    login: bytes | None
    password: bytes | None


# -- where the file is ---------------------------------------------------------------------


def _getenv(env: Mapping[str, str], name: str) -> str | None:
    # curl_getenv: an empty variable counts as unset.
    value = env.get(name)
    return value if value else None


def _home_from_passwd() -> str | None:
    try:
        import pwd
    except ImportError:  # Windows
        return None
    try:
        return pwd.getpwuid(os.geteuid()).pw_dir
    except KeyError:
        return None


def netrc_path(
    netrc_file: str | None = None,
    env: Mapping[str, str] | None = None,
    *,
    windows: bool | None = None,
) -> list[str]:
    """Return the files to try, in order, as libcurl 8.23's `Curl_parsenetrc` does.

    `netrc_file` is CURLOPT_NETRC_FILE. Without it: $NETRC, else ``<home>/.netrc`` (and on
    Windows then ``<home>\\_netrc``, tried when the first is missing). Returns [] when no home
    directory can be found (libcurl then reports FILE_MISSING). `env` defaults to os.environ,
    `windows` to the running platform.
    """
    if netrc_file is not None:
        return [netrc_file]
    if env is None:
        env = os.environ
    if windows is None:
        windows = sys.platform == "win32"
    named = _getenv(env, "NETRC")
    if named is not None:
        return [named]
    home = _getenv(env, "HOME")
    if home is None:
        home = _getenv(env, "USERPROFILE") if windows else _home_from_passwd()
    if home is None:
        return []
    sep = "\\" if windows else "/"
    paths = [f"{home}{sep}.netrc"]
    if windows:
        paths.append(f"{home}{sep}_netrc")
    return paths


def read_netrc_file(path: str) -> bytes:
    """Return the bytes of the file at `path`.

    Raises NetrcError(FILE_MISSING) when it cannot be opened or is a directory (libcurl's
    `fopen` failing, or `fstat` saying S_ISDIR).
    """
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        raise NetrcError(NetrcStatus.FILE_MISSING) from None


# -- the text libcurl keeps ----------------------------------------------------------------


def load_netrc(data: bytes) -> bytes:
    """Return the text libcurl scans from a file's bytes (lib/netrc.c `file2memory`).

    Raises NetrcError(SYNTAX_ERROR) for a line of MAX_NETRC_LINE bytes or more (its newline
    counted; one is added to a last line without it) or when what is kept reaches
    MAX_NETRC_FILE bytes (`curl2netrc` maps the dynbuf's CURLE_TOO_LARGE to a syntax error).
    """
    kept: list[bytes] = []
    size = 0
    lines = data.split(b"\n")
    # Curl_get_line returns every line with a newline; at the end of a file that ends with
    # one it returns one more, empty line (which is kept as "\n"): checked through the size
    # limit, 131070 bytes of file pass and 131071 fail whether or not the last line has its
    # newline.
    last = lines.pop()
    full = [line + b"\n" for line in lines]
    full.append(last + b"\n")
    for line in full:
        if len(line) >= MAX_NETRC_LINE:
            raise NetrcError(NetrcStatus.SYNTAX_ERROR)
        line = line.lstrip(b" \t")
        if line.startswith(b"#"):
            continue
        nul = line.find(b"\0")
        if nul >= 0:
            line = line[:nul]
        size += len(line)
        if size >= MAX_NETRC_FILE:
            raise NetrcError(NetrcStatus.SYNTAX_ERROR)
        kept.append(line)
    return b"".join(kept)


# -- the scanner ---------------------------------------------------------------------------

_BLANKS = b" \t"
_EOF, _LITERAL, _MACHINE, _DEFAULT, _ACCOUNT, _LOGIN, _PASSWORD, _MACDEF, _JUNK = range(9)
_KEYWORDS = {
    b"machine": _MACHINE,
    b"default": _DEFAULT,
    b"account": _ACCOUNT,
    b"login": _LOGIN,
    b"password": _PASSWORD,
    b"macdef": _MACDEF,
}
_ESCAPES = {ord("n"): ord("\n"), ord("r"): ord("\r"), ord("t"): ord("\t")}


class _Lexer:
    """lib/netrc.c's `netrc_lexer`: tokens of the text, one at a time, with one push-back."""

    __slots__ = ("literal", "pos", "pushed", "text", "token")

    def __init__(self, text: bytes) -> None:
        self.text = text
        self.pos = 0
        self.token = _EOF
        self.literal = b""
        self.pushed = False

    def _skip_blanks(self) -> None:
        text, pos, n = self.text, self.pos, len(self.text)
        while pos < n:
            while pos < n and text[pos] in _BLANKS:
                pos += 1
            while pos < n and text[pos] == 0x0D:
                pos += 1
            if pos < n and text[pos] == 0x0A:
                pos += 1
            else:
                break
        self.pos = pos

    def skip_to_empty_line(self) -> None:
        """Pass a macro body: up to and including the LF that makes an empty line."""
        text, pos, n = self.text, self.pos, len(self.text)
        while pos < n:
            if text[pos] == 0x0A:
                pos += 1
                while pos < n and text[pos] == 0x0D:
                    pos += 1
                if pos < n and text[pos] == 0x0A:
                    break
            else:
                pos += 1
        self.pos = pos

    def _quoted(self) -> None:
        text, pos, n = self.text, self.pos + 1, len(self.text)
        out = bytearray()
        escape = False
        while pos < n:
            c = text[pos]
            if escape:
                escape = False
                c = _ESCAPES.get(c, c)
            elif c == 0x5C:
                escape = True
                pos += 1
                continue
            elif c == 0x22:
                self.pos = pos + 1
                self.literal = bytes(out)
                return
            out.append(c)
            if len(out) >= MAX_NETRC_TOKEN:
                raise NetrcError(NetrcStatus.SYNTAX_ERROR)
            pos += 1
        raise NetrcError(NetrcStatus.SYNTAX_ERROR)  # no closing quote

    def next(self, want_literal: bool) -> int:
        """Move to the next token and return its kind; raises NetrcError(SYNTAX_ERROR)."""
        if self.pushed:
            self.pushed = False
            return self.token
        self.literal = b""
        self._skip_blanks()
        text, pos, n = self.text, self.pos, len(self.text)
        if pos >= n:
            self.token = _EOF
        elif text[pos] == 0x22:
            self._quoted()
            self.token = _LITERAL
        else:
            end = pos
            while end < n and text[end] not in b" \t\r\n":
                end += 1
            word = text[pos:end]
            self.pos = end
            if want_literal:
                if len(word) >= MAX_NETRC_TOKEN:
                    raise NetrcError(NetrcStatus.SYNTAX_ERROR)
                self.token = _LITERAL
                self.literal = word
            else:
                self.token = _KEYWORDS.get(word.lower(), _JUNK)
        return self.token


def scan_netrc(text: bytes, host: str | bytes, login: bytes | None = None) -> NetrcMatch | None:
    """Return the entry libcurl 8.23 picks for `host` from `text` (see `load_netrc`), or None.

    With `login` (a non-empty user name from the URL), only an entry whose login equals it
    and that has a password, or an entry with a password and no login, matches; the returned
    `login` is then `login`. Raises NetrcError(SYNTAX_ERROR) for a bad quoted token or one
    too long.
    """
    host_b = host.encode("latin-1") if isinstance(host, str) else host
    host_l = host_b.lower()
    wanted = login if login else None
    lexer = _Lexer(text)
    matches_host = False
    entry_login: bytes | None = None
    entry_password: bytes | None = None

    def end_entry() -> NetrcMatch | None:
        if not matches_host:
            return None
        if entry_login is not None:
            if wanted is not None:
                if wanted != entry_login or entry_password is None:
                    return None
                return NetrcMatch(wanted, entry_password)
            return NetrcMatch(entry_login, entry_password)
        if entry_password is not None:  # a password for any user
            return NetrcMatch(wanted, entry_password)
        return None

    def literal_value() -> bytes | None:
        if lexer.next(True) == _LITERAL:
            return lexer.literal
        lexer.pushed = True  # only the end of the text is not a literal
        return None

    while True:
        token = lexer.next(False)
        if token in (_EOF, _MACHINE, _DEFAULT, _MACDEF):
            found = end_entry()
            if found is not None:
                return found
            matches_host = False
            entry_login = entry_password = None
        if token == _EOF:
            return None
        if token == _MACHINE:
            name = literal_value()
            matches_host = name is not None and name.lower() == host_l
        elif token == _DEFAULT:
            matches_host = True
        elif token == _ACCOUNT:
            literal_value()
        elif token == _LOGIN:
            value = literal_value()
            if value is not None and matches_host:
                entry_login = value
        elif token == _PASSWORD:
            value = literal_value()
            if value is not None and matches_host:
                entry_password = value
        elif token == _MACDEF:
            lexer.skip_to_empty_line()


def lookup_netrc(
    host: str | bytes,
    login: bytes | None = None,
    netrc_file: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    read: Callable[[str], bytes] = read_netrc_file,
    windows: bool | None = None,
) -> NetrcMatch | None:
    """Find the entry for `host` in the .netrc file (`netrc_path`), as `Curl_parsenetrc`.

    Returns the match, or None when no entry matches (NO_MATCH). Raises NetrcError with
    FILE_MISSING (no file, a directory, no home directory) or SYNTAX_ERROR. `read` reads a
    file (tests pass a fake).
    """
    paths = netrc_path(netrc_file, env, windows=windows)
    if not paths:
        raise NetrcError(NetrcStatus.FILE_MISSING)
    for i, path in enumerate(paths):
        try:
            data = read(path)
        except NetrcError as exc:
            if exc.status is NetrcStatus.FILE_MISSING and i + 1 < len(paths):
                continue  # Windows: try _netrc
            raise
        return scan_netrc(load_netrc(data), host, login)
    raise NetrcError(NetrcStatus.FILE_MISSING)  # pragma: no cover - the loop returns


# -- a transfer's credentials ---------------------------------------------------------------


@dataclass(frozen=True)
class NetrcLogin:
    """The user name and password a transfer uses after .netrc was consulted.

    `from_netrc` is libcurl's conn->bits.netrc: credentials found in .netrc may be sent to
    the host a redirect leads to (lib/http.c `Curl_http_output_auth`).
    """

    user: bytes | None
    password: bytes | None
    from_netrc: bool = False


def netrc_credentials(
    mode: int,
    host: str | bytes,
    *,
    url_user: bytes | None,
    url_password: bytes | None,
    username_option: bool = False,
    netrc_file: str | None = None,
    env: Mapping[str, str] | None = None,
    read: Callable[[str], bytes] = read_netrc_file,
    windows: bool | None = None,
) -> NetrcLogin:
    """Apply CURLOPT_NETRC to a transfer to `host`, as lib/url.c `override_login` does.

    `url_user`/`url_password` are the URL's (percent-decoded) userinfo, None when absent;
    `username_option` is True when CURLOPT_USERNAME or CURLOPT_USERPWD set a user name (then
    .netrc is not read and the URL's credentials are returned unchanged). The rules, checked
    against libcurl 8.23:

    - NETRC_IGNORED: nothing is read.
    - A non-empty URL password with a non-empty URL user name means no look-up with
      NETRC_OPTIONAL; with NETRC_REQUIRED the file is read anyway and a password found there
      wins over the URL's.
    - A non-empty URL user name is the login looked for; the match keeps it.
    - No match: the URL's credentials stay.
    - A missing or malformed file: ignored with NETRC_OPTIONAL; with NETRC_REQUIRED raises
      CurlError(E_READ_ERROR, ".netrc error: no such file" / "... syntax error").
    - A password without a user name gets an empty user name.

    Returns the user and password to use (None where there is none).
    """
    user = url_user if url_user else None
    password = url_password if url_password else None
    if mode == NETRC_IGNORED or username_option:
        return NetrcLogin(url_user, url_password)
    match: NetrcMatch | None = None
    # A URL password keeps libcurl from reading the file only when the URL also has a user
    # name: "http://:pw@host/" still looks it up (checked).
    if password is None or user is None or mode == NETRC_REQUIRED:
        try:
            match = lookup_netrc(host, user, netrc_file, env=env, read=read, windows=windows)
        except NetrcError as exc:
            if mode != NETRC_OPTIONAL:
                raise exc.to_curl_error() from exc
    if match is not None:
        if match.login is not None:
            user = match.login
        password = match.password if match.password is not None else b""
    if user is None and password is not None:
        user = b""  # "no user was set but a password, set a blank user"
    return NetrcLogin(user, password, from_netrc=match is not None)
