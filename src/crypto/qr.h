/* src/crypto/qr.h: QR codes for terminals (libqrencode), used by `coffer
 * mfa enroll` to show the otpauth:// URI.
 *
 * It lives in src/crypto next to totp.h because it is the only consumer
 * of the TOTP URI; it does no cryptography and may move to src/client.
 *
 * SEC: the text rendered is usually a TOTP secret: the caller writes it to
 * a terminal only, never to a log; libqrencode's internal copies are freed
 * without wiping (it offers no hook), which is accepted for a short-lived
 * CLI process. */
#ifndef CF_CRYPTO_QR_H
#define CF_CRYPTO_QR_H

#include <stdbool.h>
#include <stdio.h>

#include "base/error.h"

#define CF_QR_TEXT_MAX	1024	/* bytes of text accepted */

/* Render text (NUL-terminated, 1..CF_QR_TEXT_MAX bytes) as a QR code
 * (error correction level M, 8-bit mode) to out with Unicode half blocks,
 * two modules per character cell, and a 2-module quiet zone.  Light
 * modules are drawn with block characters, so the code reads correctly on
 * a terminal with light text on a dark background (as `qrencode -t UTF8`);
 * with invert true, dark modules are drawn instead (for dark text on a
 * light background).  Errors: CF_E_INPUT (empty or too long), CF_E_NOMEM,
 * CF_E_IO (write failed). */
cf_err	cf_qr_render_utf8(const char *text, bool invert, FILE *out,
	    struct cf_error *err);

#endif
