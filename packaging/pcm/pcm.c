/* The edge agent's PCM helpers, loaded by shared/pcm.py with ctypes when they are there
 * (without them it sums levels in Python, same results, and lets FFmpeg mix stereo).
 *
 * The agent does not import numpy (14 MB of RSS on a box). In Python, summing a block's
 * 2,756 squares costs ~100 us and mixing a block of stereo down 2-3 ms, 1.5 and ~30 CPU
 * seconds per station-hour; here 3 and 15 microseconds (bench/agent/pcm_helper.py).
 */
#include <stddef.h>
#include <stdint.h>

/* The level meter: sum of x[i]^2, exact (each square is below 2^30, so n < 2^33 samples
 * fit in 63 bits). */
double sodav_sum_squares_s16(const int16_t *x, size_t n)
{
    int64_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc += (int32_t)x[i] * (int32_t)x[i];
    return (double)acc;
}

/* The mixdown of planar float stereo to mono as FFmpeg's default does: each channel times
 * 1/sqrt(2), summed in float. Done before the resampling graph, whose stereo stage held
 * ~0.56 MB of block-sized buffers per station. */
void sodav_mix_stereo_f32(const float *l, const float *r, float *out, size_t n)
{
    const float k = 0.70710678118654752f;
    for (size_t i = 0; i < n; i++)
        out[i] = l[i] * k + r[i] * k;
}
