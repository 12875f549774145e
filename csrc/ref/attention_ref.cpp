// Reference scaled dot-product attention: plain loops over (batch, head, query), one whole row of
// scores at a time (O(Tk) scratch), sums in double. The oracle of cpu/attention.cpp; semantics
// in core/attention_types.h.
#include "ref/ref.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace tn::ref {
namespace {

// Row i's probabilities for (b, h) after the mask and causality (before dropout), into p (Tk);
// returns the log-sum-exp (+inf when no key is visible, p then all 0).
double probabilities(const Attention& a, Heads q, Heads k, int64_t b, int64_t h, int64_t i,
                     std::vector<double>& p) {
    const int64_t hk = h / (a.Hq / a.Hk);
    const float* qi = q.row(b, h, i);
    double m = -std::numeric_limits<double>::infinity();
    for (int64_t j = 0; j < a.Tk; ++j) {
        double s = -std::numeric_limits<double>::infinity();
        if (!a.causal || j <= i) {
            const float* kj = k.row(b, hk, j);
            double dot = 0.0;
            for (int64_t f = 0; f < a.D; ++f) dot += double(qi[f]) * double(kj[f]);
            s = double(a.scale) * dot;
            if (a.mask) s += double(a.mask[b * a.mb + h * a.mh + i * a.mq + j * a.mk]);
        }
        p[j] = s;
        m = std::max(m, s);
    }
    if (m == -std::numeric_limits<double>::infinity()) {
        std::fill(p.begin(), p.end(), 0.0);
        return std::numeric_limits<double>::infinity();
    }
    double sum = 0.0;
    for (int64_t j = 0; j < a.Tk; ++j) sum += (p[j] = std::exp(p[j] - m));
    for (int64_t j = 0; j < a.Tk; ++j) p[j] /= sum;
    return m + std::log(sum);
}

// Probability j after dropout.
double dropped(const Attention& a, int64_t b, int64_t h, int64_t i, int64_t j, double p) {
    if (a.dropout_p <= 0.0f) return p;
    return attention_keep(a, b, h, i, j) ? p / (1.0 - double(a.dropout_p)) : 0.0;
}

}  // namespace

void attention_forward(const Attention& a, Heads q, Heads k, Heads v, MutHeads out, float* lse) {
    std::vector<double> p(static_cast<size_t>(a.Tk)), o(static_cast<size_t>(a.Dv));
    for (int64_t b = 0; b < a.B; ++b)
        for (int64_t h = 0; h < a.Hq; ++h)
            for (int64_t i = 0; i < a.Tq; ++i) {
                const int64_t hk = h / (a.Hq / a.Hk);
                lse[(b * a.Hq + h) * a.Tq + i] = float(probabilities(a, q, k, b, h, i, p));
                std::fill(o.begin(), o.end(), 0.0);
                for (int64_t j = 0; j < a.Tk; ++j) {
                    const double pj = dropped(a, b, h, i, j, p[j]);
                    const float* vj = v.row(b, hk, j);
                    for (int64_t f = 0; f < a.Dv; ++f) o[f] += pj * double(vj[f]);
                }
                float* oi = out.row(b, h, i);
                for (int64_t f = 0; f < a.Dv; ++f) oi[f] = float(o[f]);
            }
}

void attention_backward(const Attention& a, Heads q, Heads k, Heads v, Heads out,
                        const float* lse, Heads dout, MutHeads dq, MutHeads dk, MutHeads dv) {
    (void)lse;  // the reference recomputes each row's probabilities from scratch
    for (int64_t b = 0; b < a.B; ++b)
        for (int64_t h = 0; h < a.Hk; ++h)
            for (int64_t j = 0; j < a.Tk; ++j) {
                std::fill(dk.row(b, h, j), dk.row(b, h, j) + a.D, 0.0f);
                std::fill(dv.row(b, h, j), dv.row(b, h, j) + a.Dv, 0.0f);
            }
    std::vector<double> p(static_cast<size_t>(a.Tk)), dqi(static_cast<size_t>(a.D));
    for (int64_t b = 0; b < a.B; ++b)
        for (int64_t h = 0; h < a.Hq; ++h)
            for (int64_t i = 0; i < a.Tq; ++i) {
                const int64_t hk = h / (a.Hq / a.Hk);
                probabilities(a, q, k, b, h, i, p);
                const float *go = dout.row(b, h, i), *oi = out.row(b, h, i), *qi = q.row(b, h, i);
                double Di = 0.0;  // sum_j p'_j dp'_j = dout_i . out_i
                for (int64_t f = 0; f < a.Dv; ++f) Di += double(go[f]) * double(oi[f]);
                std::fill(dqi.begin(), dqi.end(), 0.0);
                for (int64_t j = 0; j < a.Tk; ++j) {
                    if (p[j] == 0.0) continue;
                    const float* vj = v.row(b, hk, j);
                    const float* kj = k.row(b, hk, j);
                    double dpj = 0.0;
                    for (int64_t f = 0; f < a.Dv; ++f) dpj += double(go[f]) * double(vj[f]);
                    const double keep = dropped(a, b, h, i, j, 1.0);  // 0 or 1 / (1 - p)
                    const double ds = p[j] * (dpj * keep - Di);
                    float* dvj = dv.row(b, hk, j);
                    for (int64_t f = 0; f < a.Dv; ++f) dvj[f] += float(p[j] * keep * double(go[f]));
                    float* dkj = dk.row(b, hk, j);
                    for (int64_t f = 0; f < a.D; ++f) {
                        dkj[f] += float(double(a.scale) * ds * double(qi[f]));
                        dqi[f] += double(a.scale) * ds * double(kj[f]);
                    }
                }
                float* dqr = dq.row(b, h, i);
                for (int64_t f = 0; f < a.D; ++f) dqr[f] = float(dqi[f]);
            }
}

}  // namespace tn::ref
