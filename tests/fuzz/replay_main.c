/*
 * Replays every file of a fuzz corpus folder through LLVMFuzzerTestOneInput once:
 * the seed corpus as a regression test in builds without libFuzzer.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX (4u * 1024 * 1024)

int
main(int argc, char **argv)
{
    DIR *d;
    struct dirent *e;
    unsigned n = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 99;
    }
    if ((d = opendir(argv[1])) == NULL) {
        perror(argv[1]);
        return 99;
    }
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        FILE *f;
        uint8_t *buf;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", argv[1], e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
            (size_t)st.st_size > REPLAY_MAX)
            continue;
        if ((f = fopen(path, "rb")) == NULL) {
            perror(path);
            closedir(d);
            return 99;
        }
        buf = malloc((size_t)st.st_size + 1);
        if (buf == NULL || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
            fprintf(stderr, "%s: read failed\n", path);
            fclose(f);
            free(buf);
            closedir(d);
            return 99;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(buf, (size_t)st.st_size);
        free(buf);
        n++;
    }
    closedir(d);
    printf("replayed %u corpus files from %s\n", n, argv[1]);
    return n > 0 ? 0 : 99;
}
