"""TLS for rtrec's servers (`record`, `replay --serve`, `ui`): `--tls-cert` and `--tls-key`.

Some clients only speak `wss://` (openai-node builds its URL from an `https://` base).
The certificate and key are PEM files; the certificate file may hold the chain.  A key
protected by a passphrase is refused rather than prompted for: a server should not
stop to read a terminal.
"""

from __future__ import annotations

import ssl

from rtrec.errors import ConfigError


def _no_passphrase() -> str:
    raise ConfigError("--tls-key is protected by a passphrase; give an unencrypted key")


def server_context(cert_path: str | None, key_path: str | None) -> ssl.SSLContext | None:
    """The server's TLS context, or None without --tls-cert/--tls-key; ConfigError if unusable."""
    if cert_path is None and key_path is None:
        return None
    if cert_path is None or key_path is None:
        raise ConfigError("--tls-cert and --tls-key go together: give both")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert_path, key_path, password=_no_passphrase)
    except ConfigError:
        raise
    except FileNotFoundError as exc:
        raise ConfigError(f"cannot read {exc.filename or cert_path}: no such file") from exc
    except ssl.SSLError as exc:
        raise ConfigError(
            f"--tls-cert {cert_path} and --tls-key {key_path} are not a PEM certificate "
            f"and its key ({exc.reason or exc})"
        ) from exc
    except OSError as exc:
        raise ConfigError(
            f"cannot read --tls-cert {cert_path} / --tls-key {key_path}: {exc.strerror or exc}"
        ) from exc
    return context
