// Writes the tiny JPEG fixtures of Tests/Fixtures/images/ through libjpeg (via the project's own shim):
//   rgb.jpg   32x16 RGB, quality 95: left 16x16 block (200, 40, 40), right block (30, 60, 220)
//   grey.jpg  16x16 grey, quality 95: left half 50, right half 210 (8-pixel columns)
//   truncated.jpg  the first half of rgb.jpg
// Flat 16x16 blocks survive 4:2:0 chroma subsampling, so the decoded values stay within a few levels.
// Build and run from the repository root:
//   clang -O1 -o /tmp/make-jpeg-fixtures tools/make-jpeg-fixtures.c -ljpeg && /tmp/make-jpeg-fixtures
#include "../Sources/CImageCodecs/image_codecs.c"

static void save(const char *path, const unsigned char *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(1); }
    fwrite(data, 1, size, f);
    fclose(f);
}

int main(void) {
    unsigned char rgb[32 * 16 * 3], grey[16 * 16];
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 32; x++) {
            unsigned char *p = rgb + (y * 32 + x) * 3;
            if (x < 16) { p[0] = 200; p[1] = 40; p[2] = 40; } else { p[0] = 30; p[1] = 60; p[2] = 220; }
        }
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++) grey[y * 16 + x] = x < 8 ? 50 : 210;
    unsigned char *data; size_t size; char error[256];
    if (mc_jpeg_encode(rgb, 32, 16, 3, 95, &data, &size, error, sizeof error)) { fprintf(stderr, "%s\n", error); return 1; }
    save("Tests/Fixtures/images/rgb.jpg", data, size);
    save("Tests/Fixtures/images/truncated.jpg", data, size / 2);
    mc_free(data);
    if (mc_jpeg_encode(grey, 16, 16, 1, 95, &data, &size, error, sizeof error)) { fprintf(stderr, "%s\n", error); return 1; }
    save("Tests/Fixtures/images/grey.jpg", data, size);
    mc_free(data);
    return 0;
}
