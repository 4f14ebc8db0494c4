"""TLS for rtrec's servers (`record`, `replay --serve`, `ui`): a certificate and its key.

Some clients only speak `wss://` (openai-node builds its URL from an `https://` base).
The certificate and key are PEM files; the certificate file may hold the chain.  A key
protected by a passphrase is refused rather than prompted for: a server should not
stop to read a terminal.
"""

from __future__ import annotations

import ssl

from rtrec.errors import TLSConfigError


class _Passphrase(Exception):
    """The key asked for a passphrase (raised past ssl, which would prompt for one)."""


def _no_passphrase() -> str:
    raise _Passphrase


def server_context(cert_path: str | None, key_path: str | None) -> ssl.SSLContext | None:
    """The server's TLS context, or None without either file; TLSConfigError if unusable."""
    if cert_path is None and key_path is None:
        return None
    if cert_path is None or key_path is None:
        raise TLSConfigError(TLSConfigError.UNPAIRED, cert_path, key_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert_path, key_path, password=_no_passphrase)
    except _Passphrase:
        raise TLSConfigError(TLSConfigError.PASSPHRASE, cert_path, key_path) from None
    except FileNotFoundError as exc:
        missing = str(exc.filename or cert_path)
        raise TLSConfigError(TLSConfigError.MISSING, cert_path, key_path, missing) from exc
    except ssl.SSLError as exc:
        reason = str(exc.reason or exc)
        raise TLSConfigError(TLSConfigError.NOT_PEM, cert_path, key_path, reason) from exc
    except OSError as exc:
        why = str(exc.strerror or exc)
        raise TLSConfigError(TLSConfigError.UNREADABLE, cert_path, key_path, why) from exc
    return context
