"""`Curl`: the pycurl-compatible easy handle.

Theory of operation: a `Curl` holds the user's options (libcurl's `set` data) in a dict keyed
by option number, validated at `setopt` by the one option table (`_options`). It never runs a
transfer itself: `perform()` adds a `Transfer` to a private `MultiEngine` and drives it with a
poll loop, exactly as `curl_easy_perform` does; `CurlMulti.add_handle` adds one to a shared
engine. The `Config` made from the options is cached with the options' generation, so an
unchanged handle re-run over a kept-alive connection starts without re-parsing.

getinfo reads the last transfer's progress data; before any transfer it answers as libcurl
does (0, '', None).
"""

from __future__ import annotations

import io
import os
import sys
import time
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from purecurl import _codes as C
from purecurl import _consts as K
from purecurl._errors import CurlError, error
from purecurl._object import PycurlObject
from purecurl._options import (
    CURL_CONSTANTS,
    EASY_OPTIONS,
    INFOS,
    check_easy_unset,
    check_easy_value,
)
from purecurl.engine import state as S
from purecurl.engine.config import BODY_FORM, BODY_NONE, Config, note_request_kind
from purecurl.engine.multi import MultiEngine
from purecurl.engine.transfer import HandleState, Transfer
from purecurl.proto.cookies import CookieJar
from purecurl.proto.multipart import tree_from_httppost

if TYPE_CHECKING:
    from purecurl.multi import CurlMulti

_OPT = {o.name: o.number for o in EASY_OPTIONS.values()}
_INFO = {i.name: i.number for i in INFOS.values()}

# WRITEDATA/WRITEHEADER/READDATA are stored as the function option they set (the object's
# bound write/read), so setting one of a pair replaces the other, as in pycurl.
_STORED_AS: dict[int, int] = {
    o.number: o.target for o in EASY_OPTIONS.values() if o.target is not None
}

_PRIVATE = _OPT["PRIVATE"]
_URL = _OPT["URL"]
_EFFECTIVE_URL = _INFO["EFFECTIVE_URL"]
_POSTFIELDS = _OPT["POSTFIELDS"]
_POSTFIELDSIZE_LARGE = _OPT["POSTFIELDSIZE_LARGE"]
_SHARE = _OPT["SHARE"]
_COOKIELIST = _OPT["COOKIELIST"]
_HTTPPOST = _OPT["HTTPPOST"]
_MIMEPOST = _OPT["MIMEPOST"]
_COOKIEFILE = _OPT["COOKIEFILE"]
_COOKIEJAR = _OPT["COOKIEJAR"]
_INFO_COOKIELIST = _INFO["INFO_COOKIELIST"]


def _path(name: Any) -> str:
    return name.decode("utf-8", "surrogateescape") if isinstance(name, bytes) else str(name)


_HTTP_VERSION_OF = {9: 0, 10: 1, 11: 2, 20: 3, 30: 30}


def _secs(x: float) -> float:
    return round(x, 6)


def _us(x: float) -> int:
    return int(x * 1_000_000)


def _speed(size: int, secs: float) -> float:
    return size / secs if secs > 0 else 0.0


# getinfo: info name -> value from a finished (or running) transfer
_GETTERS: dict[str, Callable[[Transfer], Any]] = {
    "EFFECTIVE_URL": lambda t: t.effective_url or (t.cfg.url_str if t.cfg is not None else ""),
    "RESPONSE_CODE": lambda t: t.response_code,
    "TOTAL_TIME": lambda t: _secs(t.t_total),
    "TOTAL_TIME_T": lambda t: _us(t.t_total),
    "NAMELOOKUP_TIME": lambda t: _secs(t.t_namelookup),
    "NAMELOOKUP_TIME_T": lambda t: _us(t.t_namelookup),
    "CONNECT_TIME": lambda t: _secs(t.t_connect),
    "CONNECT_TIME_T": lambda t: _us(t.t_connect),
    "APPCONNECT_TIME": lambda t: _secs(t.t_appconnect),
    "APPCONNECT_TIME_T": lambda t: _us(t.t_appconnect),
    "PRETRANSFER_TIME": lambda t: _secs(t.t_pretransfer),
    "PRETRANSFER_TIME_T": lambda t: _us(t.t_pretransfer),
    "STARTTRANSFER_TIME": lambda t: _secs(t.t_starttransfer),
    "STARTTRANSFER_TIME_T": lambda t: _us(t.t_starttransfer),
    "REDIRECT_TIME": lambda t: _secs(t.t_redirect),
    "REDIRECT_TIME_T": lambda t: _us(t.t_redirect),
    "SIZE_UPLOAD": lambda t: float(t.size_ul),
    "SIZE_UPLOAD_T": lambda t: t.size_ul,
    "SIZE_DOWNLOAD": lambda t: float(t.size_dl),
    "SIZE_DOWNLOAD_T": lambda t: t.size_dl,
    "SPEED_DOWNLOAD": lambda t: _speed(t.size_dl, t.t_total),
    "SPEED_DOWNLOAD_T": lambda t: int(_speed(t.size_dl, t.t_total)),
    "SPEED_UPLOAD": lambda t: _speed(t.size_ul, t.t_total),
    "SPEED_UPLOAD_T": lambda t: int(_speed(t.size_ul, t.t_total)),
    "HEADER_SIZE": lambda t: t.header_size,
    "REQUEST_SIZE": lambda t: t.request_size,
    "CONTENT_LENGTH_DOWNLOAD": lambda t: float(t.content_length),
    "CONTENT_LENGTH_DOWNLOAD_T": lambda t: t.content_length,
    "CONTENT_LENGTH_UPLOAD": lambda t: float(_upload_length(t)),
    "CONTENT_LENGTH_UPLOAD_T": lambda t: _upload_length(t),
    "CONTENT_TYPE": lambda t: t.content_type,
    "REDIRECT_COUNT": lambda t: t.redirect_count,
    "REDIRECT_URL": lambda t: t.redirect_url,
    "NUM_CONNECTS": lambda t: t.num_connects,
    "PRIMARY_IP": lambda t: t.primary_ip,
    "PRIMARY_PORT": lambda t: t.primary_port,
    "LOCAL_IP": lambda t: t.local_ip,
    "LOCAL_PORT": lambda t: t.local_port,
    "OS_ERRNO": lambda t: t.os_errno,
    "INFO_HTTP_VERSION": lambda t: _HTTP_VERSION_OF.get(t.http_version, 0),
    "HTTP_CONNECTCODE": lambda t: t.connect_code,
    "HTTPAUTH_AVAIL": lambda t: t.hs.auth.httpauth_avail,
    "PROXYAUTH_AVAIL": lambda t: t.hs.auth.proxyauth_avail,
    "SSL_VERIFYRESULT": lambda t: t.verify_result,
    "PROXY_SSL_VERIFYRESULT": lambda t: t.proxy_verify_result,
    "INFO_CERTINFO": lambda t: t.certinfo,
    "USED_PROXY": lambda t: 1 if t.cfg is not None and t.cfg.proxy is not None else 0,
    "INFO_FILETIME": lambda t: -1,
    "CONDITION_UNMET": lambda t: 0,
    "SCHEME": lambda t: t.cfg.url.scheme if t.cfg is not None else None,
    "EFFECTIVE_METHOD": lambda t: t.cfg.method if t.cfg is not None else "GET",
    "ACTIVESOCKET": lambda t: t.conn.fd if t.conn is not None and t.conn.sock else -1,
    "LASTSOCKET": lambda t: t.conn.fd if t.conn is not None and t.conn.sock else -1,
    "REFERER": lambda t: None,
}


def _upload_length(t: Transfer) -> int:
    cfg = t.cfg
    if cfg is None or cfg.body_kind == BODY_NONE:
        return -1
    return cfg.upload_size


def _no_config() -> NoReturn:
    raise CurlError(C.E_URL_MALFORMAT, "No URL set")


_GETINFO: dict[int, Callable[[Transfer], Any]] = {
    _INFO[name]: fn for name, fn in _GETTERS.items() if name in _INFO
}


class Curl(PycurlObject):
    """An easy handle, as pycurl's `pycurl.Curl`."""

    def __init__(self) -> None:
        d = self.__dict__
        d["_opts"] = {}
        d["_gen"] = 0
        d["_cfg"] = None
        d["_cfg_gen"] = -1
        d["_multi"] = None
        d["_transfer"] = None
        d["_engine"] = None
        d["_closed"] = False
        d["_errstr"] = ""
        d["_exception"] = None
        d["_share"] = None
        d["_hs"] = HandleState()

    # -- arbitrary attributes, pycurl style
    def __enter__(self) -> Curl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            eng = self.__dict__.get("_engine")
            if eng is not None:
                eng.close()
            if not self.__dict__.get("_closed") and "_opts" in self.__dict__:
                # pycurl's dealloc runs curl_easy_cleanup, which writes CURLOPT_COOKIEJAR
                self._write_cookiejar()
        except Exception:
            pass

    # -- options
    def _check_open(self, what: str) -> None:
        if self._closed:
            raise error(f"cannot invoke {what}() - no curl handle")

    def setopt(self, option: int, value: Any) -> None:
        """Set an option; raises TypeError / error as pycurl does for bad values."""
        self._check_open("setopt")
        norm = check_easy_value(option, value)
        if type(norm) is list and not norm:
            return  # pycurl: an empty list leaves the option as it was
        if option == _HTTPPOST and norm is not None:
            # curl_formadd's refusals come at setopt time in pycurl
            pairs: Any = norm
            tree_from_httppost(pairs)
        elif option == _MIMEPOST and norm is not None:
            value._attach_mimepost(self)
        if option == _MIMEPOST:
            old = self._opts.get(_MIMEPOST)
            if old is not None and old is not norm:
                old._detach_mimepost()
        if norm is None:  # None unsets the options that allow it (check raised otherwise)
            self._opts.pop(_STORED_AS.get(option, option), None)
            if option == _SHARE:
                self.__dict__["_share"] = None
            self.__dict__["_gen"] = self._gen + 1
            return
        if option == _SHARE:  # check_easy_value accepts only a CurlShare here
            self.__dict__["_share"] = value
            value._attach_handle(self._hs)
        elif option == _COOKIELIST:
            self._cookielist(norm)
            return
        opts = self._opts
        opts[_STORED_AS.get(option, option)] = norm
        note_request_kind(opts, option, norm)
        if option == _POSTFIELDS and isinstance(norm, bytes):
            # pycurl sets the size with the data (a later POSTFIELDSIZE overrides it).
            opts[_POSTFIELDSIZE_LARGE] = len(norm)
        self.__dict__["_gen"] = self._gen + 1

    def _cookielist(self, command: Any) -> None:
        """CURLOPT_COOKIELIST acts at once on the handle's jar (starting the cookie engine)."""
        hs: HandleState = self._hs
        if hs.cookies is None:
            hs.cookies = CookieJar()
        now = int(time.time())
        action = hs.cookies.cookielist(command, now=now)
        if action == "FLUSH":
            self._write_cookiejar()
        elif action == "RELOAD":
            name = self._opts.get(_COOKIEFILE)
            if name:
                hs.load_cookie_file(_path(name), now)

    def _write_cookiejar(self) -> None:
        """Write the jar to CURLOPT_COOKIEJAR ("-" is stdout), as curl_easy_cleanup does."""
        name = self._opts.get(_COOKIEJAR)
        jar = self._hs.cookies
        if not name or jar is None:
            return
        text = jar.dump(int(time.time())).encode("latin-1", "replace")
        path = _path(name)
        if path == "-":
            sys.stdout.flush()
            os.write(1, text)
            return
        try:
            with open(path, "wb") as f:
                f.write(text)
        except OSError:
            pass  # libcurl: "WARNING: failed to save cookies in ..." and goes on

    def setopt_string(self, option: int, value: str | bytes) -> None:
        """Set a string option from a str (pycurl's setopt_string)."""
        if not isinstance(value, (str, bytes)):
            raise TypeError("invalid arguments to setopt_string")
        self.setopt(option, value)

    def unsetopt(self, option: int) -> None:
        """Reset an option to its default."""
        self._check_open("unsetopt")
        check_easy_unset(option)
        self._opts.pop(_STORED_AS.get(option, option), None)
        if option == _SHARE:
            self.__dict__["_share"] = None
        self.__dict__["_gen"] = self._gen + 1

    def reset(self) -> None:
        """curl_easy_reset: every option back to its default; callbacks are released."""
        self._check_open("reset")
        mime = self._opts.get(_MIMEPOST)
        if mime is not None:
            mime._detach_mimepost()
        self._opts.clear()
        d = self.__dict__
        d["_gen"] = self._gen + 1
        d["_cfg"] = None
        d["_share"] = None
        d["_exception"] = None
        d["_errstr"] = ""
        d["_transfer"] = None

    def duphandle(self) -> Curl:
        """A new handle with the same options (callbacks shared, transfer state not)."""
        self._check_open("duphandle")
        dup = Curl()
        dup._opts.update(self._opts)
        dup.__dict__["_share"] = self._share
        dup.__dict__["_gen"] = 1
        return dup

    def _config(self) -> Config:
        cfg: Config | None = self._cfg
        # A form is read as it stands when the transfer starts (a CurlMime can change after
        # setopt), so its Config is made again each time.
        if self._cfg_gen != self._gen or cfg is None or cfg.body_kind == BODY_FORM:
            cfg = Config(self._opts)
            d = self.__dict__
            d["_cfg"] = cfg
            d["_cfg_gen"] = self._gen
        return cfg

    def _new_transfer(self) -> Transfer:
        t = Transfer(self, self._config, self._hs)
        d = self.__dict__
        d["_transfer"] = t
        d["_errstr"] = ""
        d["_exception"] = None
        return t

    # -- running
    def perform(self) -> None:
        """Run the transfer to completion; raises error(code, message) when it fails."""
        self._check_open("perform")
        if self._multi is not None:
            raise error(C.E_FAILED_INIT, "easy handle already used in multi handle")
        eng: MultiEngine | None = self._engine
        if eng is None:
            eng = MultiEngine()
            eng.easy_pool = True
            share = self._share
            if share is not None:
                share._attach(eng)
            self.__dict__["_engine"] = eng
        if eng.busy:
            raise error(C.E_RECURSIVE_API_CALL, "API function called from within callback")
        t = self._new_transfer()
        eng.busy = True
        try:
            eng.add(t)
            while t.state in S.LIVE:
                eng.perform()
                if t.state not in S.LIVE:
                    break
                ms = eng.timeout_ms()
                eng.wait(1.0 if ms < 0 else min(ms / 1000.0, 1.0))
        finally:
            eng.busy = False
            eng.info_read(len(eng.msgs) or 1)
            eng.remove(t)
            self._detach(t)
        self._after(t)
        if t.result:
            raise error(t.result, t.errmsg) from t.exc

    def _after(self, t: Transfer) -> None:
        d = self.__dict__
        d["_errstr"] = t.errmsg
        d["_exception"] = t.exc

    @staticmethod
    def _detach(t: Transfer) -> None:
        """The transfer left its engine: break the handle <-> transfer cycle (no garbage
        cycles per transfer); its data stays readable by getinfo."""
        t.handle = None
        t.get_config = _no_config

    def perform_rb(self) -> bytes:
        """perform() into a buffer; returns the body as bytes."""
        buf = io.BytesIO()
        self.setopt(_OPT["WRITEDATA"], buf)
        self.perform()
        return buf.getvalue()

    def perform_rs(self) -> str:
        """perform() into a buffer; returns the body decoded as UTF-8."""
        return self.perform_rb().decode("utf-8")

    def pause(self, bitmask: int) -> None:
        """curl_easy_pause(PAUSE_RECV/SEND/ALL/CONT); may deliver held data before returning."""
        self._check_open("pause")
        t = self._transfer
        multi = self._multi
        eng = multi._engine if multi is not None else self._engine
        if t is None or eng is None or t.state not in S.LIVE:
            return
        if multi is not None and not eng.busy:
            multi._guarded_pause(t, bitmask)
            return
        # From inside a callback: the engine announces the change when the callback returns.
        eng.pause(t, bitmask, not eng.busy)

    def unpause(self) -> None:
        """pause(PAUSE_CONT)."""
        self.pause(K.PAUSE_CONT)

    # -- info
    def getinfo(self, info: int) -> Any:
        """The value of a CURLINFO for the last transfer (int, float, str, list or None)."""
        self._check_open("getinfo")
        if info == _INFO["PRIVATE"]:
            return self._opts.get(_PRIVATE)
        if info == _INFO_COOKIELIST:
            jar = self._hs.cookies
            return [] if jar is None else jar.netscape_lines(int(time.time()))
        spec = INFOS.get(info)
        if spec is None:
            raise ValueError("invalid argument to getinfo")
        if spec.deprecated:
            warnings.warn("getinfo option is deprecated", DeprecationWarning, stacklevel=2)
        fn = _GETINFO.get(info)
        t = self._transfer
        if t is None:
            # Before any transfer: libcurl's initial values; the URL is what was set.
            if info == _EFFECTIVE_URL:
                url = self._opts.get(_URL)
                return "" if url is None else str(url)
            return spec.initial if spec.initial is not None else _default_info(spec.type)
        if fn is None:
            return _default_info(spec.type)
        value = fn(t)
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        return value

    def getinfo_raw(self, info: int) -> Any:
        """getinfo with str values as bytes."""
        value = self.getinfo(info)
        if isinstance(value, str):
            return value.encode("utf-8")
        if isinstance(value, list):
            return [v.encode("utf-8") if isinstance(v, str) else v for v in value]
        return value

    def errstr(self) -> str:
        """The last error message ('' when none)."""
        return str(self._errstr)

    def errstr_raw(self) -> bytes:
        return str(self._errstr).encode("utf-8")

    @property
    def callback_error(self) -> BaseException | None:
        """The exception a callback raised during the last transfer, or None."""
        exc: BaseException | None = self._exception
        return exc

    def multi(self) -> CurlMulti | None:
        """The CurlMulti this handle is in, or None."""
        m: CurlMulti | None = self._multi
        return m

    @property
    def closed(self) -> bool:
        return bool(self._closed)

    def close(self) -> None:
        """Close the handle: leaves its multi (REMOVE callbacks may fire), drops callbacks."""
        if self._closed:
            return
        multi = self._multi
        if multi is not None:
            multi.remove_handle(self)
        eng = self._engine
        d = self.__dict__
        if eng is not None:
            d["_engine"] = None
            eng.close()
        self._write_cookiejar()
        self._opts.clear()
        d["_cfg"] = None
        d["_share"] = None
        d["_exception"] = None
        d["_transfer"] = None
        d["_closed"] = True


def _default_info(kind: str) -> Any:
    if kind == "string":
        return None
    if kind == "double":
        return 0.0
    if kind in ("slist", "certinfo"):
        return []
    return 0


Curl._export_constants(CURL_CONSTANTS)
