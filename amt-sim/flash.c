#include "flash.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "err.h"

#define FLASH_MAGIC "amt-sim-flash 1\n"
#define FLASH_SUM_PREFIX "sha256 "

struct flash_entry {
    char *key;
    char *value;
};

struct sim_flash {
    char *dir;
    char *path;
    char *tmp_path;
    struct flash_entry *entries; /* sorted by key */
    size_t n;
    size_t cap;
    bool was_empty;
    bool dirty;
};

static void
wipe_free(char *s)
{
    if (s != NULL) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

static void
clear_entries(struct sim_flash *flash)
{
    for (size_t i = 0; i < flash->n; i++) {
        free(flash->entries[i].key);
        wipe_free(flash->entries[i].value);
    }
    flash->n = 0;
}

static bool
key_valid(const char *key)
{
    size_t len;

    if (key == NULL || (len = strlen(key)) == 0 || len > SIM_FLASH_KEY_MAX)
        return false;
    for (const char *p = key; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* Binary search: the index of key, or where it would go (with *found false). */
static size_t
find_key(const struct sim_flash *flash, const char *key, bool *found)
{
    size_t lo = 0, hi = flash->n;

    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(flash->entries[mid].key, key);

        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int
insert_entry(struct sim_flash *flash, const char *key, const char *value)
{
    bool found;
    size_t at = find_key(flash, key, &found);
    char *v = NULL, *k = NULL;

    if ((v = strdup(value)) == NULL)
        return AMT_ERR_ALLOC;
    if (found) {
        wipe_free(flash->entries[at].value);
        flash->entries[at].value = v;
        return 0;
    }
    if (flash->n == SIM_FLASH_ENTRIES_MAX) {
        wipe_free(v);
        return AMT_ERR_FLASH_FULL;
    }
    if (flash->n == flash->cap) {
        size_t cap = flash->cap ? flash->cap * 2 : 32;
        struct flash_entry *e = realloc(flash->entries, cap * sizeof(*e));

        if (e == NULL) {
            wipe_free(v);
            return AMT_ERR_ALLOC;
        }
        flash->entries = e;
        flash->cap = cap;
    }
    if ((k = strdup(key)) == NULL) {
        wipe_free(v);
        return AMT_ERR_ALLOC;
    }
    memmove(&flash->entries[at + 1], &flash->entries[at],
            (flash->n - at) * sizeof(flash->entries[0]));
    flash->entries[at].key = k;
    flash->entries[at].value = v;
    flash->n++;
    return 0;
}

static int
hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int
sha256_hex(const unsigned char *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;

    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return AMT_ERR_CRYPTO;
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/*
 * Decodes one "key value" line in place. The value is percent-escaped: every byte
 * outside '!'..'~', and '%' itself, is written %XX, so a line never holds a space
 * after the key's separator, a newline or a NUL. Example: "host.name pc1.contoso.com"
 */
static int
parse_line(struct sim_flash *flash, char *line, size_t lineno, char *errbuf,
           size_t errlen)
{
    char *sp = strchr(line, ' ');
    char *in, *out;

    if (sp == NULL) {
        amt_set_error(errbuf, errlen, "line %zu has no value separator", lineno);
        return AMT_ERR_FLASH_CORRUPT;
    }
    *sp = '\0';
    if (!key_valid(line)) {
        amt_set_error(errbuf, errlen, "line %zu has an invalid key", lineno);
        return AMT_ERR_FLASH_CORRUPT;
    }
    for (in = out = sp + 1; *in != '\0'; in++) {
        unsigned char c = (unsigned char)*in;

        if (c == '%') {
            int hi = hex_digit((unsigned char)in[1]), lo;

            lo = hi < 0 ? -1 : hex_digit((unsigned char)in[2]);
            if (lo < 0 || (hi == 0 && lo == 0)) {
                amt_set_error(errbuf, errlen, "line %zu has a bad escape", lineno);
                return AMT_ERR_FLASH_CORRUPT;
            }
            *out++ = (char)(hi << 4 | lo);
            in += 2;
        } else if (c < '!' || c > '~') {
            amt_set_error(errbuf, errlen, "line %zu has an unescaped byte 0x%02x", lineno,
                          c);
            return AMT_ERR_FLASH_CORRUPT;
        } else {
            *out++ = (char)c;
        }
    }
    *out = '\0';
    if ((size_t)(out - (sp + 1)) > SIM_FLASH_VALUE_MAX) {
        amt_set_error(errbuf, errlen, "line %zu has a value over %d bytes", lineno,
                      SIM_FLASH_VALUE_MAX);
        return AMT_ERR_FLASH_CORRUPT;
    }
    if (sim_flash_get(flash, line) != NULL) {
        amt_set_error(errbuf, errlen, "line %zu repeats key %s", lineno, line);
        return AMT_ERR_FLASH_CORRUPT;
    }
    return insert_entry(flash, line, sp + 1);
}

static int
read_whole(const char *path, char **out, size_t *outlen, char *errbuf, size_t errlen)
{
    int fd = -1, r = AMT_ERR_INTERNAL;
    struct stat st;
    char *buf = NULL;
    size_t got = 0;

    *out = NULL;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        if (errno == ENOENT) {
            r = AMT_ERR_NOT_FOUND;
            goto out;
        }
        amt_set_error(errbuf, errlen, "%s: %s", path, strerror(errno));
        r = AMT_ERR_FLASH_IO;
        goto out;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        amt_set_error(errbuf, errlen, "%s: not a regular file", path);
        r = AMT_ERR_FLASH_IO;
        goto out;
    }
    if (st.st_size > SIM_FLASH_FILE_MAX) {
        amt_set_error(errbuf, errlen, "%s: larger than %d bytes", path,
                      SIM_FLASH_FILE_MAX);
        r = AMT_ERR_FLASH_CORRUPT;
        goto out;
    }
    if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            amt_set_error(errbuf, errlen, "%s: read failed: %s", path,
                          n < 0 ? strerror(errno) : "file shrank");
            r = AMT_ERR_FLASH_IO;
            goto out;
        }
        got += (size_t)n;
    }
    buf[got] = '\0';
    *out = buf;
    *outlen = got;
    buf = NULL;
    r = 0;
out:
    if (buf != NULL) {
        OPENSSL_cleanse(buf, got);
        free(buf);
    }
    if (fd >= 0)
        close(fd);
    return r;
}

/* Layout: the magic line, "key value" lines in key order, then "sha256 <hex>\n"
 * over every byte before that last line. */
static int
load(struct sim_flash *flash, char *errbuf, size_t errlen)
{
    char *buf = NULL, *p, *sum_line;
    size_t len = 0, lineno = 1, body_len;
    char want[65];
    int r;

    clear_entries(flash);
    r = read_whole(flash->path, &buf, &len, errbuf, errlen);
    if (r == AMT_ERR_NOT_FOUND) {
        flash->was_empty = true;
        return 0;
    }
    if (r != 0)
        return r;
    flash->was_empty = false;
    r = AMT_ERR_FLASH_CORRUPT;
    if (memchr(buf, '\0', len) != NULL) {
        amt_set_error(errbuf, errlen, "%s: contains a NUL byte", flash->path);
        goto out;
    }
    if (len < strlen(FLASH_MAGIC) || memcmp(buf, FLASH_MAGIC, strlen(FLASH_MAGIC)) != 0) {
        amt_set_error(errbuf, errlen, "%s: not an amt-sim flash store (bad first line)",
                      flash->path);
        goto out;
    }
    if (len == 0 || buf[len - 1] != '\n') {
        amt_set_error(errbuf, errlen, "%s: truncated (no final newline)", flash->path);
        goto out;
    }
    buf[len - 1] = '\0';
    sum_line = strrchr(buf, '\n');
    if (sum_line == NULL ||
        strncmp(sum_line + 1, FLASH_SUM_PREFIX, strlen(FLASH_SUM_PREFIX)) != 0) {
        amt_set_error(errbuf, errlen, "%s: truncated (no checksum line)", flash->path);
        goto out;
    }
    body_len = (size_t)(sum_line + 1 - buf);
    if ((r = sha256_hex((unsigned char *)buf, body_len, want)) != 0)
        goto out;
    if (strcmp(sum_line + 1 + strlen(FLASH_SUM_PREFIX), want) != 0) {
        amt_set_error(errbuf, errlen, "%s: checksum mismatch", flash->path);
        r = AMT_ERR_FLASH_CORRUPT;
        goto out;
    }
    sum_line[1] = '\0'; /* keep the newline that ends the last entry */
    p = buf + strlen(FLASH_MAGIC);
    while (*p != '\0') {
        char *nl = strchr(p, '\n');

        lineno++;
        if (nl == NULL) {
            amt_set_error(errbuf, errlen, "%s: line %zu: no newline", flash->path,
                          lineno);
            r = AMT_ERR_FLASH_CORRUPT;
            goto out;
        }
        *nl = '\0';
        if ((r = parse_line(flash, p, lineno, errbuf, errlen)) != 0)
            goto out;
        p = nl + 1;
    }
    r = 0;
out:
    if (r != 0)
        clear_entries(flash);
    OPENSSL_cleanse(buf, len);
    free(buf);
    return r;
}

static char *
join_path(const char *dir, const char *name)
{
    size_t len = strlen(dir) + 1 + strlen(name) + 1;
    char *p = malloc(len);

    if (p != NULL)
        snprintf(p, len, "%s/%s", dir, name);
    return p;
}

int
sim_flash_open(const char *dir, struct sim_flash **out, char *errbuf, size_t errlen)
{
    struct sim_flash *flash = NULL;
    struct stat st;
    int r = AMT_ERR_INTERNAL;

    if (out != NULL)
        *out = NULL;
    if (dir == NULL || *dir == '\0' || out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        amt_set_error(errbuf, errlen, "%s: cannot create folder: %s", dir,
                      strerror(errno));
        return AMT_ERR_FLASH_IO;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        amt_set_error(errbuf, errlen, "%s: not a folder", dir);
        return AMT_ERR_FLASH_IO;
    }
    if ((flash = calloc(1, sizeof(*flash))) == NULL ||
        (flash->dir = strdup(dir)) == NULL ||
        (flash->path = join_path(dir, SIM_FLASH_FILE_NAME)) == NULL ||
        (flash->tmp_path = join_path(dir, SIM_FLASH_FILE_NAME ".new")) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    if ((r = load(flash, errbuf, errlen)) != 0)
        goto out;
    *out = flash;
    flash = NULL;
out:
    sim_flash_free(flash);
    return r;
}

void
sim_flash_free(struct sim_flash *flash)
{
    if (flash == NULL)
        return;
    clear_entries(flash);
    free(flash->entries);
    free(flash->dir);
    free(flash->path);
    free(flash->tmp_path);
    free(flash);
}

const char *
sim_flash_dir(const struct sim_flash *flash)
{
    return flash->dir;
}

bool
sim_flash_was_empty(const struct sim_flash *flash)
{
    return flash->was_empty;
}

const char *
sim_flash_get(const struct sim_flash *flash, const char *key)
{
    bool found;
    size_t at;

    if (flash == NULL || key == NULL)
        return NULL;
    at = find_key(flash, key, &found);
    return found ? flash->entries[at].value : NULL;
}

int
sim_flash_set(struct sim_flash *flash, const char *key, const char *value)
{
    bool found;
    size_t at;
    int r;

    if (flash == NULL || !key_valid(key))
        return AMT_ERR_FLASH_KEY;
    if (value == NULL) {
        at = find_key(flash, key, &found);
        if (!found)
            return 0;
        free(flash->entries[at].key);
        wipe_free(flash->entries[at].value);
        memmove(&flash->entries[at], &flash->entries[at + 1],
                (flash->n - at - 1) * sizeof(flash->entries[0]));
        flash->n--;
        flash->dirty = true;
        return 0;
    }
    if (strlen(value) > SIM_FLASH_VALUE_MAX)
        return AMT_ERR_FLASH_KEY;
    {
        const char *old = sim_flash_get(flash, key);

        if (old != NULL && strcmp(old, value) == 0)
            return 0;
    }
    if ((r = insert_entry(flash, key, value)) != 0)
        return r;
    flash->dirty = true;
    return 0;
}

int
sim_flash_remove_prefix(struct sim_flash *flash, const char *prefix, size_t *removed)
{
    size_t plen, kept = 0, gone = 0;

    if (flash == NULL || prefix == NULL || *prefix == '\0')
        return AMT_ERR_INVALID_ARGUMENT;
    plen = strlen(prefix);
    for (size_t i = 0; i < flash->n; i++) {
        if (strncmp(flash->entries[i].key, prefix, plen) == 0) {
            free(flash->entries[i].key);
            wipe_free(flash->entries[i].value);
            gone++;
        } else {
            flash->entries[kept++] = flash->entries[i];
        }
    }
    flash->n = kept;
    if (gone > 0)
        flash->dirty = true;
    if (removed != NULL)
        *removed = gone;
    return 0;
}

size_t
sim_flash_count(const struct sim_flash *flash)
{
    return flash->n;
}

const char *
sim_flash_key_at(const struct sim_flash *flash, size_t i)
{
    return i < flash->n ? flash->entries[i].key : NULL;
}

bool
sim_flash_dirty(const struct sim_flash *flash)
{
    return flash->dirty;
}

/* Appends to a growing buffer; the buffer holds secrets, so growth wipes the old copy. */
struct outbuf {
    char *data;
    size_t len;
    size_t cap;
};

static int
out_append(struct outbuf *b, const char *s, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        char *n;

        while (cap < b->len + len + 1)
            cap *= 2;
        if (cap > SIM_FLASH_FILE_MAX + 1)
            return AMT_ERR_FLASH_FULL;
        if ((n = malloc(cap)) == NULL)
            return AMT_ERR_ALLOC;
        if (b->data != NULL) {
            memcpy(n, b->data, b->len);
            OPENSSL_cleanse(b->data, b->len);
            free(b->data);
        }
        b->data = n;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

static int
serialise(const struct sim_flash *flash, struct outbuf *b)
{
    static const char hex[] = "0123456789abcdef";
    char sum[65];
    int r;

    if ((r = out_append(b, FLASH_MAGIC, strlen(FLASH_MAGIC))) != 0)
        return r;
    for (size_t i = 0; i < flash->n; i++) {
        const char *k = flash->entries[i].key;

        if ((r = out_append(b, k, strlen(k))) != 0 || (r = out_append(b, " ", 1)) != 0)
            return r;
        for (const unsigned char *v = (const unsigned char *)flash->entries[i].value;
             *v != '\0'; v++) {
            char esc[3] = {'%', hex[*v >> 4], hex[*v & 15]};

            if (*v < '!' || *v > '~' || *v == '%')
                r = out_append(b, esc, 3);
            else
                r = out_append(b, (const char *)v, 1);
            if (r != 0)
                return r;
        }
        if ((r = out_append(b, "\n", 1)) != 0)
            return r;
    }
    if ((r = sha256_hex((unsigned char *)b->data, b->len, sum)) != 0)
        return r;
    if ((r = out_append(b, FLASH_SUM_PREFIX, strlen(FLASH_SUM_PREFIX))) != 0 ||
        (r = out_append(b, sum, 64)) != 0 || (r = out_append(b, "\n", 1)) != 0)
        return r;
    return 0;
}

static int
write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int
sim_flash_commit(struct sim_flash *flash)
{
    struct outbuf b = {NULL, 0, 0};
    int fd = -1, dirfd = -1, r = AMT_ERR_INTERNAL;

    if (flash == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (!flash->dirty && !flash->was_empty)
        return 0;
    if ((r = serialise(flash, &b)) != 0)
        goto out;
    r = AMT_ERR_FLASH_IO;
    fd = open(flash->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write_all(fd, b.data, b.len) != 0 || fsync(fd) != 0)
        goto out;
    if (close(fd) != 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    if (rename(flash->tmp_path, flash->path) != 0)
        goto out;
    /* The rename is durable only once the folder itself is synced. */
    if ((dirfd = open(flash->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
        fsync(dirfd) != 0)
        goto out;
    flash->dirty = false;
    flash->was_empty = false;
    r = 0;
out:
    if (r == AMT_ERR_FLASH_IO)
        fprintf(stderr, "sim_flash_commit: %s: %s\n", flash->path, strerror(errno));
    if (fd >= 0) {
        close(fd);
        unlink(flash->tmp_path);
    }
    if (dirfd >= 0)
        close(dirfd);
    if (b.data != NULL) {
        OPENSSL_cleanse(b.data, b.len);
        free(b.data);
    }
    return r;
}

int
sim_flash_rollback(struct sim_flash *flash)
{
    int r;

    if (flash == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    r = load(flash, NULL, 0);
    if (r == 0)
        flash->dirty = false;
    return r;
}
