/* table.c: output for people, as aligned columns and as field/value lines. */
#include "ucmctl.h"

#include <stdlib.h>
#include <string.h>

/* Longest cell shown in a list; `get` shows the whole value. Wide free-text columns would
 * otherwise push every other column off the screen. */
#define UCMCTL_TABLE_CELL_MAX 40
/* The field column of a record is at least this wide so short records line up alike. */
#define UCMCTL_TABLE_NAME_MIN 16

void ucmctl_table_init(struct ucmctl_table *t, size_t ncols)
{
	t->ncols = ncols;
	t->nrows = 0;
	t->cells = NULL;
}

void ucmctl_table_add(struct ucmctl_table *t, const char *const *cells)
{
	char **grown = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(*grown));
	size_t i;

	if (!grown) {
		fputs("ucmctl: out of memory\n", stderr);
		abort();
	}
	t->cells = grown;
	for (i = 0; i < t->ncols; i++) {
		char *c = ucmctl_xstrdup(cells[i] ? cells[i] : "");

		ucmctl_text_sanitize(c);
		if (i > 0)
			ucmctl_text_truncate(c, UCMCTL_TABLE_CELL_MAX);
		t->cells[t->nrows * t->ncols + i] = c;
	}
	t->nrows++;
}

void ucmctl_table_widths(const struct ucmctl_table *t, size_t *widths)
{
	size_t r, c;

	for (c = 0; c < t->ncols; c++)
		widths[c] = 0;
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			size_t w = ucmctl_text_width(t->cells[r * t->ncols + c]);

			if (w > widths[c])
				widths[c] = w;
		}
	}
}

void ucmctl_table_print(const struct ucmctl_table *t, FILE *out)
{
	size_t *widths = ucmctl_xmalloc(t->ncols * sizeof(*widths));
	struct ucmctl_buf line;
	size_t r, c;

	ucmctl_table_widths(t, widths);
	ucmctl_buf_init(&line);
	for (r = 0; r < t->nrows; r++) {
		line.len = 0;
		for (c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];

			ucmctl_buf_add(&line, cell);
			if (c + 1 < t->ncols)
				ucmctl_buf_addf(&line, "%*s",
				                (int)(widths[c] - ucmctl_text_width(cell) + 2), "");
		}
		/* Blank trailing cells would leave trailing blanks, which only get in the way
		 * of scripts and diffs. */
		while (line.len > 0 && line.s[line.len - 1] == ' ')
			line.len--;
		line.s[line.len] = '\0';
		fprintf(out, "%s\n", line.s);
	}
	ucmctl_buf_free(&line);
	free(widths);
}

void ucmctl_table_free(struct ucmctl_table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = 0;
}

void ucmctl_table_print_record(const struct ucmctl_resource *res, json_t *record, FILE *out)
{
	size_t width = UCMCTL_TABLE_NAME_MIN;
	const char *name;
	json_t *v;
	void *it;

	if (!json_is_object(record)) {
		char *s = ucmctl_value_to_text(NULL, record);

		ucmctl_text_sanitize(s);
		fprintf(out, "%s\n", s);
		free(s);
		return;
	}
	for (it = json_object_iter(record); it; it = json_object_iter_next(record, it)) {
		name = json_object_iter_key(it);
		if (ucmctl_text_width(name) + 2 > width)
			width = ucmctl_text_width(name) + 2;
	}
	for (it = json_object_iter(record); it; it = json_object_iter_next(record, it)) {
		const struct ucmctl_field *f;

		name = json_object_iter_key(it);
		v = json_object_iter_value(it);
		f = res ? ucmctl_schema_field(res, name) : NULL;
		char *label = ucmctl_xstrdup(name);
		char *s;

		if (f && f->write_only && !json_is_null(v))
			s = ucmctl_xstrdup("***");
		else
			s = ucmctl_value_to_text(f, v);
		ucmctl_text_sanitize(label);
		ucmctl_text_sanitize(s);
		if (*s)
			fprintf(out, "%s%*s%s\n", label, (int)(width - ucmctl_text_width(label)),
			        "", s);
		else
			fprintf(out, "%s\n", label);
		free(label);
		free(s);
	}
}
