/* The pcap reader's record walk, compiled (sensor.capture.walk wraps it; walk.py holds the
 * pure-Python twin, which must give identical results).
 *
 * walk(buf, start, hlen, little_endian) -> (offsets: bytearray of native int64, end: int)
 *
 * From off = start, while off <= len(buf) - hlen: record off, then off += hlen + caplen, where
 * caplen is the u32 at off + 8 in the file's byte order. ``end`` is the final off, which may lie
 * past the buffer when the last whole header's body does not fit (the caller carries it over).
 * ``buf`` is anything with the buffer protocol; it is only read.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t
caplen_at(const unsigned char *p, int little)
{
    if (little)
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
}

static PyObject *
walk(PyObject *self, PyObject *args)
{
    PyObject *obj;
    Py_ssize_t start, hlen;
    int little;
    Py_buffer view;

    (void)self;
    if (!PyArg_ParseTuple(args, "Onnp:walk", &obj, &start, &hlen, &little))
        return NULL;
    if (hlen < 12) {
        PyErr_SetString(PyExc_ValueError, "walk: hlen must be at least 12 (caplen is the u32 at +8)");
        return NULL;
    }
    if (start < 0) {
        PyErr_SetString(PyExc_ValueError, "walk: start must not be negative");
        return NULL;
    }
    if (PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    const unsigned char *p = (const unsigned char *)view.buf;
    const Py_ssize_t size = view.len;

    /* Every record takes at least hlen bytes, so at most max_n records start in [start, size - hlen].
     * The offsets go straight into a bytearray (numpy wraps it writable, like the array the Python
     * walk builds), sized for records of 64 bytes and doubled when they are smaller: one pass, no copy. */
    Py_ssize_t max_n = (size >= hlen && start <= size - hlen) ? (size - hlen - start) / hlen + 1 : 0;
    Py_ssize_t cap = max_n ? (size - start) / 64 + 16 : 0;
    if (cap > max_n)
        cap = max_n;
    PyObject *offs = PyByteArray_FromStringAndSize(NULL, cap * (Py_ssize_t)sizeof(int64_t));
    if (offs == NULL) {
        PyBuffer_Release(&view);
        return NULL;
    }
    int64_t *out = (int64_t *)PyByteArray_AS_STRING(offs);
    Py_ssize_t off = start, n = 0;
    if (max_n) {
        const Py_ssize_t last = size - hlen;
        while (off <= last) {
            /* off + hlen <= size, so only adding caplen can overflow: never for a buffer in memory */
            const uint32_t caplen = caplen_at(p + off + 8, little);
            if ((uint64_t)caplen > (uint64_t)(PY_SSIZE_T_MAX - (off + hlen))) {
                PyErr_SetString(PyExc_OverflowError, "walk: record offset overflows");
                goto fail;
            }
            if (n == cap) { /* n < max_n here, since each record advances off by hlen or more */
                cap = cap > max_n / 2 ? max_n : cap * 2;
                if (PyByteArray_Resize(offs, cap * (Py_ssize_t)sizeof(int64_t)) < 0)
                    goto fail;
                out = (int64_t *)PyByteArray_AS_STRING(offs);
            }
            out[n++] = (int64_t)off;
            off += hlen + (Py_ssize_t)caplen;
        }
    }
    if (n != cap && PyByteArray_Resize(offs, n * (Py_ssize_t)sizeof(int64_t)) < 0)
        goto fail;
    PyBuffer_Release(&view);
    return Py_BuildValue("(Nn)", offs, off);

fail:
    PyBuffer_Release(&view);
    Py_DECREF(offs);
    return NULL;
}

static PyMethodDef walk_methods[] = {
    {"walk", walk, METH_VARARGS,
     "walk(buf, start, hlen, little_endian) -> (offsets, end)\n\n"
     "Offsets (a bytearray of native int64) of the pcap records whose whole header lies in buf, from start;\n"
     "end is the offset after the last of them (past len(buf) when its body does not fit)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef walk_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_walk",
    .m_doc = "The pcap record walk, compiled (see sensor.capture.walk).",
    .m_size = 0,
    .m_methods = walk_methods,
};

PyMODINIT_FUNC
PyInit__walk(void)
{
    return PyModuleDef_Init(&walk_module);
}
