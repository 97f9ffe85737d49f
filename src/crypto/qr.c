/* src/crypto/qr.c: QR codes drawn with Unicode half blocks (libqrencode);
 * see qr.h. */
#include <errno.h>
#include <string.h>

#include <qrencode.h>

#include "crypto/qr.h"

#define QUIET	2	/* modules of margin on each side */

/* Light (1) or dark (0) at (x, y), the margin included. */
static int
light(const QRcode *q, int x, int y)
{
	if (x < QUIET || y < QUIET || x >= q->width + QUIET ||
	    y >= q->width + QUIET)
		return 1;
	return (q->data[(y - QUIET) * q->width + (x - QUIET)] & 1) == 0;
}

cf_err
cf_qr_render_utf8(const char *text, bool invert, FILE *out,
    struct cf_error *err)
{
	/* Indexed by (top << 1) | bottom, 1 meaning "draw this half". */
	static const char *const cell[4] = {
		" ", "\xe2\x96\x84", "\xe2\x96\x80", "\xe2\x96\x88"
	};
	QRcode	*q = NULL;
	size_t	 n;
	int	 x, y, size, top, bot;
	cf_err	 rc = CF_OK;

	n = text == NULL ? 0 : strnlen(text, CF_QR_TEXT_MAX + 1);
	if (n == 0 || n > CF_QR_TEXT_MAX)
		return cf_error_set(err, CF_E_INPUT,
		    "QR text must be 1..%d bytes", CF_QR_TEXT_MAX);
	errno = 0;
	q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (q == NULL) {
		rc = errno == ENOMEM ?
		    cf_error_set(err, CF_E_NOMEM, "QR encoding: no memory") :
		    cf_error_set(err, CF_E_INPUT, "QR encoding failed");
		goto out;
	}
	size = q->width + 2 * QUIET;
	for (y = 0; y < size; y += 2) {
		for (x = 0; x < size; x++) {
			top = light(q, x, y);
			/* Below the last row: more quiet zone. */
			bot = y + 1 < size ? light(q, x, y + 1) : 1;
			if (invert) {
				top = !top;
				bot = !bot;
			}
			if (fputs(cell[(top << 1) | bot], out) == EOF)
				break;
		}
		if (x < size || fputc('\n', out) == EOF)
			break;
	}
	if (y < size || fflush(out) == EOF)
		rc = cf_error_sys(err, CF_E_IO, "writing QR code");
out:
	QRcode_free(q);
	return rc;
}
