/* glibc's fortified fprintf, for Debian's libseccomp.a (built against glibc with
 * _FORTIFY_SOURCE) linked into writ's static musl build: musl has no __*_chk entry points.
 * libseccomp calls it only from seccomp_export_pfc. The check glibc adds (flag > 0: %n in
 * a writable format is fatal) is kept: such a format is refused. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int __fprintf_chk(FILE *fp, int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (flag > 0 && strstr(fmt, "%n") != NULL)
		abort();
	va_start(ap, fmt);
	r = vfprintf(fp, fmt, ap);
	va_end(ap);
	return r;
}
