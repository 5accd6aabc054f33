// libarchive, loaded on first use. Linked the usual way, libarchive and the
// eight libraries it needs (ICU, libxml2, liblzma, …) are mapped and relocated
// at every start of kiln: 4.4 ms here, a tenth of a push that finds the image
// already there, paid by every command that never touches a tar. Each function
// kiln calls is defined below with the header's own signature (a mismatch does
// not compile) and forwards to the real one, found with dlsym on first call.
// A libarchive function newly used elsewhere is a link error until it is added.
#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

namespace {

// The soname of libarchive 3.x (Debian's libarchive13).
constexpr const char* kLibarchive = "libarchive.so.13";

void* library() {
  static void* handle = [] {
    void* h = ::dlopen(kLibarchive, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      // Linked, the dynamic loader would have refused to start kiln at all;
      // this is that failure, at the first tar instead. A package of kiln must
      // name libarchive13 itself: dpkg-shlibdeps no longer sees it.
      std::fprintf(stderr, "kiln: cannot load %s (install libarchive13): %s\n", kLibarchive,
                   ::dlerror());
      std::exit(1);
    }
    return h;
  }();
  return handle;
}

void* resolve(const char* name) {
  void* f = ::dlsym(library(), name);
  if (!f) {
    std::fprintf(stderr, "kiln: %s lacks %s: %s\n", kLibarchive, name, ::dlerror());
    std::exit(1);
  }
  return f;
}

}  // namespace

#define KILN_LAZY(ret, name, params, args)                                      \
  extern "C" ret name params {                                                  \
    static const auto real = reinterpret_cast<decltype(&name)>(resolve(#name)); \
    return real args;                                                           \
  }

KILN_LAZY(const char*, archive_bzlib_version, (), ())
KILN_LAZY(struct archive_entry*, archive_entry_clear, (struct archive_entry * a0), (a0))
KILN_LAZY(void, archive_entry_copy_hardlink, (struct archive_entry * a0, const char* a1), (a0, a1))
KILN_LAZY(void, archive_entry_copy_pathname, (struct archive_entry * a0, const char* a1), (a0, a1))
KILN_LAZY(void, archive_entry_copy_symlink, (struct archive_entry * a0, const char* a1), (a0, a1))
KILN_LAZY(__LA_MODE_T, archive_entry_filetype, (struct archive_entry * a0), (a0))
KILN_LAZY(void, archive_entry_free, (struct archive_entry * a0), (a0))
KILN_LAZY(la_int64_t, archive_entry_gid, (struct archive_entry * a0), (a0))
KILN_LAZY(const char*, archive_entry_hardlink, (struct archive_entry * a0), (a0))
KILN_LAZY(__LA_MODE_T, archive_entry_mode, (struct archive_entry * a0), (a0))
KILN_LAZY(time_t, archive_entry_mtime, (struct archive_entry * a0), (a0))
KILN_LAZY(long, archive_entry_mtime_nsec, (struct archive_entry * a0), (a0))
KILN_LAZY(struct archive_entry*, archive_entry_new, (), ())
KILN_LAZY(const char*, archive_entry_pathname, (struct archive_entry * a0), (a0))
KILN_LAZY(const char*, archive_entry_pathname_utf8, (struct archive_entry * a0), (a0))
KILN_LAZY(dev_t, archive_entry_rdevmajor, (struct archive_entry * a0), (a0))
KILN_LAZY(dev_t, archive_entry_rdevminor, (struct archive_entry * a0), (a0))
KILN_LAZY(void, archive_entry_set_filetype, (struct archive_entry * a0, unsigned int a1), (a0, a1))
KILN_LAZY(void, archive_entry_set_gid, (struct archive_entry * a0, la_int64_t a1), (a0, a1))
KILN_LAZY(void, archive_entry_set_mode, (struct archive_entry * a0, __LA_MODE_T a1), (a0, a1))
KILN_LAZY(void, archive_entry_set_mtime, (struct archive_entry * a0, time_t a1, long a2),
          (a0, a1, a2))
KILN_LAZY(void, archive_entry_set_pathname, (struct archive_entry * a0, const char* a1), (a0, a1))
KILN_LAZY(void, archive_entry_set_perm, (struct archive_entry * a0, __LA_MODE_T a1), (a0, a1))
KILN_LAZY(void, archive_entry_set_rdevmajor, (struct archive_entry * a0, dev_t a1), (a0, a1))
KILN_LAZY(void, archive_entry_set_rdevminor, (struct archive_entry * a0, dev_t a1), (a0, a1))
KILN_LAZY(void, archive_entry_set_size, (struct archive_entry * a0, la_int64_t a1), (a0, a1))
KILN_LAZY(void, archive_entry_set_uid, (struct archive_entry * a0, la_int64_t a1), (a0, a1))
KILN_LAZY(la_int64_t, archive_entry_size, (struct archive_entry * a0), (a0))
KILN_LAZY(void, archive_entry_sparse_add_entry,
          (struct archive_entry * a0, la_int64_t a1, la_int64_t a2), (a0, a1, a2))
KILN_LAZY(int, archive_entry_sparse_count, (struct archive_entry * a0), (a0))
KILN_LAZY(int, archive_entry_sparse_next,
          (struct archive_entry * a0, la_int64_t* a1, la_int64_t* a2), (a0, a1, a2))
KILN_LAZY(int, archive_entry_sparse_reset, (struct archive_entry * a0), (a0))
KILN_LAZY(const char*, archive_entry_symlink, (struct archive_entry * a0), (a0))
KILN_LAZY(la_int64_t, archive_entry_uid, (struct archive_entry * a0), (a0))
KILN_LAZY(void, archive_entry_xattr_add_entry,
          (struct archive_entry * a0, const char* a1, const void* a2, size_t a3), (a0, a1, a2, a3))
KILN_LAZY(int, archive_entry_xattr_next,
          (struct archive_entry * a0, const char** a1, const void** a2, size_t* a3),
          (a0, a1, a2, a3))
KILN_LAZY(int, archive_entry_xattr_reset, (struct archive_entry * a0), (a0))
KILN_LAZY(const char*, archive_error_string, (struct archive * a0), (a0))
KILN_LAZY(la_int64_t, archive_filter_bytes, (struct archive * a0, int a1), (a0, a1))
KILN_LAZY(int, archive_free, (struct archive * a0), (a0))
KILN_LAZY(const char*, archive_liblzma_version, (), ())
KILN_LAZY(const char*, archive_libzstd_version, (), ())
KILN_LAZY(la_ssize_t, archive_read_data, (struct archive * a0, void* a1, size_t a2), (a0, a1, a2))
KILN_LAZY(int, archive_read_data_block,
          (struct archive * a0, const void** a1, size_t* a2, la_int64_t* a3), (a0, a1, a2, a3))
KILN_LAZY(int, archive_read_free, (struct archive * a0), (a0))
KILN_LAZY(struct archive*, archive_read_new, (), ())
KILN_LAZY(int, archive_read_next_header, (struct archive * a0, struct archive_entry** a1), (a0, a1))
KILN_LAZY(int, archive_read_open,
          (struct archive * a0, void* a1, archive_open_callback* a2, archive_read_callback* a3,
           archive_close_callback* a4),
          (a0, a1, a2, a3, a4))
KILN_LAZY(int, archive_read_open_filename, (struct archive * a0, const char* a1, size_t a2),
          (a0, a1, a2))
KILN_LAZY(int, archive_read_support_filter_bzip2, (struct archive * a0), (a0))
KILN_LAZY(int, archive_read_support_filter_gzip, (struct archive * a0), (a0))
KILN_LAZY(int, archive_read_support_filter_none, (struct archive * a0), (a0))
KILN_LAZY(int, archive_read_support_filter_xz, (struct archive * a0), (a0))
KILN_LAZY(int, archive_read_support_filter_zstd, (struct archive * a0), (a0))
KILN_LAZY(int, archive_read_support_format_gnutar, (struct archive * a0), (a0))
KILN_LAZY(int, archive_read_support_format_tar, (struct archive * a0), (a0))
KILN_LAZY(int, archive_write_add_filter_none, (struct archive * a0), (a0))
KILN_LAZY(int, archive_write_close, (struct archive * a0), (a0))
KILN_LAZY(la_ssize_t, archive_write_data, (struct archive * a0, const void* a1, size_t a2),
          (a0, a1, a2))
KILN_LAZY(int, archive_write_free, (struct archive * a0), (a0))
KILN_LAZY(int, archive_write_header, (struct archive * a0, struct archive_entry* a1), (a0, a1))
KILN_LAZY(struct archive*, archive_write_new, (), ())
KILN_LAZY(int, archive_write_open,
          (struct archive * a0, void* a1, archive_open_callback* a2, archive_write_callback* a3,
           archive_close_callback* a4),
          (a0, a1, a2, a3, a4))
KILN_LAZY(int, archive_write_open2,
          (struct archive * a0, void* a1, archive_open_callback* a2, archive_write_callback* a3,
           archive_close_callback* a4, archive_free_callback* a5),
          (a0, a1, a2, a3, a4, a5))
KILN_LAZY(int, archive_write_set_bytes_in_last_block, (struct archive * a0, int a1), (a0, a1))
KILN_LAZY(int, archive_write_set_bytes_per_block, (struct archive * a0, int a1), (a0, a1))
KILN_LAZY(int, archive_write_set_format_pax, (struct archive * a0), (a0))
KILN_LAZY(int, archive_write_set_format_pax_restricted, (struct archive * a0), (a0))
KILN_LAZY(const char*, archive_zlib_version, (), ())
