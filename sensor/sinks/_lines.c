/* Text lines assembled from columns, compiled (sensor.sinks.cells wraps it; cells.py holds the pure-Python
 * twin, which must give identical bytes).
 *
 * join(n, cells, first, ends, out) -> int
 *
 * Row i's line is its cells' texts one after the other. Rows first, first + 1, ... (as many as ``ends`` has
 * room for: a writable buffer of native int64) are written end to end into ``out`` (a writable buffer, reused
 * by the caller so that the text costs no fresh pages and stays in the CPU's cache until it is written out);
 * ends[k] receives where row first + k's text ends, and the result is the text's length: -1 when ``out`` is
 * too small (the caller gives a larger one and calls again). The columns have n rows. A cell is a tuple:
 *
 *   (0, text)                               the same text on every row
 *   (1, blob, offsets, index)               blob[offsets[k]:offsets[k + 1]] for k = index[i]; nothing when k < 0
 *   (2, values, null, prefix)               prefix, then values[i] in decimal, or ``null`` when values[i] < 0
 *   (3, micros, fixed, blob, offsets, index, prefix)  prefix, then micros[i]·10⁻⁶ in decimal: six places when
 *                                           ``fixed``, else trailing zeros stripped to at least one (Python's
 *                                           repr of such a double); where index[i] >= 0, that text of the blob
 *                                           instead; nothing when micros[i] < 0 and index[i] < 0
 *   (4, data, start, count, separator)      count[i] big-endian 16-bit words from data[start[i]], in decimal
 *   (5, data, start, count, one, zero, separator)  count[i] bits from data[start[i]], least significant first
 *
 * Integer columns are native int64 buffers of n items (offsets: one more than the blob's texts); data and
 * blobs are bytes-like. Every index is checked: a bad one raises IndexError, never reads outside a buffer.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

enum { CONST, TABLE, INT, MICROS, WORDS, BITS, KINDS };

typedef struct {
    int kind;
    int fixed;
    Py_buffer text, blob, offsets, index, values, data, start, count, one, zero, sep, prefix;
} Cell;

typedef struct {
    char *at;
    char *end;
    int full;  /* the caller's buffer is too small: not an error, it calls again with a larger one */
} Out;

#define ROOM(out, need) \
    if ((out)->end - (out)->at < (need)) { \
        (out)->full = 1; \
        return -1; \
    }

static inline int
put(Out *out, const char *text, Py_ssize_t len)
{
    ROOM(out, len);
    memcpy(out->at, text, (size_t)len);
    out->at += len;
    return 0;
}

static const char PAIRS[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* The digits of v, ending at ``end`` (written backwards two at a time); returns where they begin. */
static inline char *
digits_before(char *end, uint64_t v)
{
    while (v >= 100) {
        end -= 2;
        memcpy(end, PAIRS + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10) {
        end -= 2;
        memcpy(end, PAIRS + 2 * v, 2);
    } else
        *--end = (char)('0' + v);
    return end;
}

static inline int
decimal(Out *out, uint64_t v)
{
    char digits[24];
    char *first = digits_before(digits + 24, v);
    return put(out, first, digits + 24 - first);
}

static int
table_text(Out *out, const Py_buffer *blob, const Py_buffer *offsets, int64_t k)
{
    const int64_t *off = offsets->buf;
    Py_ssize_t texts = offsets->len / 8 - 1;
    if (k >= texts) {
        PyErr_SetString(PyExc_IndexError, "join: a table index past its texts");
        return -1;
    }
    if (off[k] < 0 || off[k] > off[k + 1] || off[k + 1] > blob->len) {
        PyErr_SetString(PyExc_IndexError, "join: a table's offsets lie outside its blob");
        return -1;
    }
    return put(out, (const char *)blob->buf + off[k], (Py_ssize_t)(off[k + 1] - off[k]));
}

static int
micros(Out *out, int64_t k, int fixed)
{
    char text[32];
    char *end = text + 32, *fraction = end - 6;
    digits_before(end, (uint64_t)(k % 1000000) + 1000000);  /* six digits with their zeros, after a 1 */
    char *first = digits_before(fraction - 1, (uint64_t)(k / 1000000));
    fraction[-1] = '.';
    if (!fixed)
        while (end > fraction + 1 && end[-1] == '0')
            end--;
    return put(out, first, end - first);
}

static int
span(const Py_buffer *data, int64_t start, int64_t bytes)
{
    if (start < 0 || bytes < 0 || start > data->len || bytes > data->len - start) {
        PyErr_SetString(PyExc_IndexError, "join: values outside the data buffer");
        return -1;
    }
    return 0;
}

static inline int
row_cell(Out *out, const Cell *c, Py_ssize_t i)
{
    switch (c->kind) {
    case CONST:
        return put(out, c->text.buf, c->text.len);
    case TABLE: {
        int64_t k = ((const int64_t *)c->index.buf)[i];
        return k < 0 ? 0 : table_text(out, &c->blob, &c->offsets, k);
    }
    case INT: {
        int64_t v = ((const int64_t *)c->values.buf)[i];
        if (c->prefix.len && put(out, c->prefix.buf, c->prefix.len) < 0)
            return -1;
        return v < 0 ? put(out, c->text.buf, c->text.len) : decimal(out, (uint64_t)v);
    }
    case MICROS: {
        int64_t k = ((const int64_t *)c->index.buf)[i];
        if (c->prefix.len && put(out, c->prefix.buf, c->prefix.len) < 0)
            return -1;
        if (k >= 0)
            return table_text(out, &c->blob, &c->offsets, k);
        int64_t v = ((const int64_t *)c->values.buf)[i];
        return v < 0 ? 0 : micros(out, v, c->fixed);
    }
    case WORDS: {
        int64_t from = ((const int64_t *)c->start.buf)[i], n = ((const int64_t *)c->count.buf)[i];
        if (n <= 0)
            return 0;
        if (span(&c->data, from, 2 * n) < 0)
            return -1;
        const unsigned char *p = (const unsigned char *)c->data.buf + from;
        const char *sep = c->sep.buf;
        Py_ssize_t sep_len = c->sep.len;
        ROOM(out, n * (5 + sep_len));  /* at most five digits a word */
        char *at = out->at;
        for (int64_t w = 0; w < n; w++, p += 2) {
            if (w) {
                memcpy(at, sep, (size_t)sep_len);
                at += sep_len;
            }
            char digits[8];
            char *from = digits_before(digits + 8, (uint64_t)(p[0] << 8 | p[1]));
            memcpy(at, from, (size_t)(digits + 8 - from));
            at += digits + 8 - from;
        }
        out->at = at;
        return 0;
    }
    case BITS: {
        int64_t from = ((const int64_t *)c->start.buf)[i], n = ((const int64_t *)c->count.buf)[i];
        if (n <= 0)
            return 0;
        if (span(&c->data, from, (n + 7) / 8) < 0)
            return -1;
        const unsigned char *p = (const unsigned char *)c->data.buf + from;
        Py_ssize_t sep_len = c->sep.len, widest = c->one.len > c->zero.len ? c->one.len : c->zero.len;
        ROOM(out, n * (widest + sep_len));
        char *at = out->at;
        for (int64_t b = 0; b < n; b++) {
            if (b) {
                memcpy(at, c->sep.buf, (size_t)sep_len);
                at += sep_len;
            }
            const Py_buffer *text = (p[b >> 3] >> (b & 7)) & 1 ? &c->one : &c->zero;
            memcpy(at, text->buf, (size_t)text->len);
            at += text->len;
        }
        out->at = at;
        return 0;
    }
    }
    return 0;
}

static void
release(Cell *c)
{
    Py_buffer *all[] = {&c->text, &c->blob, &c->offsets, &c->index, &c->values, &c->data, &c->start, &c->count,
                        &c->one, &c->zero, &c->sep, &c->prefix};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        if (all[k]->obj != NULL)
            PyBuffer_Release(all[k]);
}

static int
column(PyObject *obj, Py_buffer *view, Py_ssize_t n, const char *what)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_SIMPLE) < 0)
        return -1;
    if (view->len != n * 8) {
        PyErr_Format(PyExc_ValueError, "join: %s holds %zd bytes, not %zd int64", what, view->len, n);
        return -1;
    }
    return 0;
}

static int
bytes_of(PyObject *obj, Py_buffer *view)
{
    return PyObject_GetBuffer(obj, view, PyBUF_SIMPLE);
}

static int
offsets_of(PyObject *obj, Py_buffer *view)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_SIMPLE) < 0)
        return -1;
    if (view->len < 8 || view->len % 8) {
        PyErr_SetString(PyExc_ValueError, "join: offsets must be one or more int64");
        return -1;
    }
    return 0;
}

static int
parse(PyObject *spec, Cell *c, Py_ssize_t n)
{
    static const Py_ssize_t sizes[KINDS] = {2, 4, 4, 7, 5, 7};
    if (!PyTuple_Check(spec) || PyTuple_GET_SIZE(spec) < 1) {
        PyErr_SetString(PyExc_TypeError, "join: a cell is a tuple (kind, ...)");
        return -1;
    }
    long kind = PyLong_AsLong(PyTuple_GET_ITEM(spec, 0));
    if (kind == -1 && PyErr_Occurred())
        return -1;
    if (kind < 0 || kind >= KINDS || PyTuple_GET_SIZE(spec) != sizes[kind]) {
        PyErr_Format(PyExc_ValueError, "join: bad cell of kind %ld", kind);
        return -1;
    }
    c->kind = (int)kind;
    PyObject **a = &PyTuple_GET_ITEM(spec, 1);
    switch (c->kind) {
    case CONST:
        return bytes_of(a[0], &c->text);
    case TABLE:
        return bytes_of(a[0], &c->blob) || offsets_of(a[1], &c->offsets) || column(a[2], &c->index, n, "index")
            ? -1 : 0;
    case INT:
        return column(a[0], &c->values, n, "values") || bytes_of(a[1], &c->text) || bytes_of(a[2], &c->prefix) ? -1 : 0;
    case MICROS:
        c->fixed = PyObject_IsTrue(a[1]);
        return c->fixed < 0 || column(a[0], &c->values, n, "micros") || bytes_of(a[2], &c->blob)
            || offsets_of(a[3], &c->offsets) || column(a[4], &c->index, n, "index") || bytes_of(a[5], &c->prefix)
            ? -1 : 0;
    case WORDS:
        return bytes_of(a[0], &c->data) || column(a[1], &c->start, n, "start") || column(a[2], &c->count, n, "count")
            || bytes_of(a[3], &c->sep) ? -1 : 0;
    case BITS:
        return bytes_of(a[0], &c->data) || column(a[1], &c->start, n, "start") || column(a[2], &c->count, n, "count")
            || bytes_of(a[3], &c->one) || bytes_of(a[4], &c->zero) || bytes_of(a[5], &c->sep) ? -1 : 0;
    }
    return -1;
}

static PyObject *
join(PyObject *self, PyObject *args)
{
    Py_ssize_t n, first;
    PyObject *specs, *ends_obj, *out_obj;
    Py_buffer ends = {0}, text = {0};
    (void)self;
    if (!PyArg_ParseTuple(args, "nO!nOO:join", &n, &PyList_Type, &specs, &first, &ends_obj, &out_obj))
        return NULL;
    if (n < 0) {
        PyErr_SetString(PyExc_ValueError, "join: n must not be negative");
        return NULL;
    }
    if (PyObject_GetBuffer(ends_obj, &ends, PyBUF_WRITABLE) < 0)
        return NULL;
    if (PyObject_GetBuffer(out_obj, &text, PyBUF_WRITABLE) < 0) {
        PyBuffer_Release(&ends);
        return NULL;
    }
    Py_ssize_t count = PyList_GET_SIZE(specs);
    Cell *cells = PyMem_Calloc((size_t)(count ? count : 1), sizeof(Cell));
    Out out = {text.buf, (char *)text.buf + text.len, 0};
    PyObject *result = NULL;
    if (cells == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t rows = ends.len / 8;
    if (ends.len % 8 || first < 0 || rows > n - first) {
        PyErr_SetString(PyExc_ValueError, "join: the rows asked for are not all among the n rows");
        goto done;
    }
    for (Py_ssize_t k = 0; k < count; k++)
        if (parse(PyList_GET_ITEM(specs, k), &cells[k], n) < 0)
            goto done;
    int64_t *end_of = ends.buf;
    for (Py_ssize_t i = 0; i < rows; i++) {
        for (Py_ssize_t k = 0; k < count; k++)
            if (row_cell(&out, &cells[k], first + i) < 0) {
                if (out.full)
                    result = PyLong_FromLong(-1);
                goto done;
            }
        end_of[i] = out.at - (char *)text.buf;
    }
    result = PyLong_FromSsize_t(out.at - (char *)text.buf);
done:
    if (cells != NULL) {
        for (Py_ssize_t k = 0; k < count; k++)
            release(&cells[k]);
        PyMem_Free(cells);
    }
    PyBuffer_Release(&ends);
    PyBuffer_Release(&text);
    return result;
}

static PyMethodDef methods[] = {
    {"join", join, METH_VARARGS, "join(n, cells, first, ends, out) -> length of the texts of rows first.. "
                                 "written end to end into out, or -1 when out is too small."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_lines", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC
PyInit__lines(void)
{
    return PyModule_Create(&module);
}
