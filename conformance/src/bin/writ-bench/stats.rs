//! Medians, slopes and the test for growth faster than linear.

/// Median of a sample (None when empty).
pub fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    Some(if s.len() % 2 == 1 {
        s[m]
    } else {
        (s[m - 1] + s[m]) / 2.0
    })
}

/// The `q` quantile (0..=1, nearest rank) of a sample.
pub fn quantile(v: &[f64], q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let i = ((s.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
    Some(s[i])
}

/// The middle half of a sample (the samples between its quartiles, at least one): what a
/// fit uses, so that a round disturbed by a neighbour does not bend the curve.
pub fn middle_half(v: &[f64]) -> Vec<f64> {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let q = s.len() / 4;
    s[q..s.len() - q].to_vec()
}

/// Least-squares slope of y over x.
pub fn slope(points: &[(f64, f64)]) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (sx / n, sy / n);
    let (num, den) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| {
        (a + (x - mx) * (y - my), b + (x - mx) * (x - mx))
    });
    (den > 0.0).then(|| num / den)
}

/// y = a + b·x + c·x², fitted by least squares, with the standard error of c.
#[derive(Debug, Clone, Copy)]
pub struct Quadratic {
    pub a: f64,
    pub b: f64,
    pub c: f64,
    pub se_c: f64,
}

fn det3(m: &[[f64; 3]; 3]) -> f64 {
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
}

pub fn quadratic(points: &[(f64, f64)]) -> Option<Quadratic> {
    if points.len() < 4 {
        return None;
    }
    // Normal equations (XᵀX) β = Xᵀy with rows (1, x, x²).
    let mut xtx = [[0.0; 3]; 3];
    let mut xty = [0.0; 3];
    for &(x, y) in points {
        let row = [1.0, x, x * x];
        for i in 0..3 {
            xty[i] += row[i] * y;
            for j in 0..3 {
                xtx[i][j] += row[i] * row[j];
            }
        }
    }
    let d = det3(&xtx);
    if d.abs() < f64::EPSILON {
        return None;
    }
    // Cramer's rule for β; the (2,2) cofactor over d is (XᵀX)⁻¹[2][2].
    let solve = |k: usize| {
        let mut m = xtx;
        for (i, row) in m.iter_mut().enumerate() {
            row[k] = xty[i];
        }
        det3(&m) / d
    };
    let (a, b, c) = (solve(0), solve(1), solve(2));
    let inv22 = (xtx[0][0] * xtx[1][1] - xtx[0][1] * xtx[1][0]) / d;
    let rss: f64 = points
        .iter()
        .map(|&(x, y)| (y - (a + b * x + c * x * x)).powi(2))
        .sum();
    let s2 = rss / (points.len() as f64 - 3.0);
    Some(Quadratic {
        a,
        b,
        c,
        se_c: (s2 * inv22).max(0.0).sqrt(),
    })
}

/// Growth faster than linear: the x² term of the quadratic fit is positive beyond noise
/// (more than three standard errors) and, from the smallest to the largest x, makes more
/// than a quarter of the fitted growth (which must be positive). Returns a sentence
/// saying so.
pub fn superlinear(points: &[(f64, f64)], unit: &str) -> Option<String> {
    let q = quadratic(points)?;
    let (lo, hi) = points
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), &(x, _)| (l.min(x), h.max(x)));
    let curve = |x: f64| q.a + q.b * x + q.c * x * x;
    let growth = curve(hi) - curve(lo);
    let squared = q.c * (hi * hi - lo * lo);
    (q.c > 3.0 * q.se_c && growth > 0.0 && squared > 0.25 * growth).then(|| {
        format!(
            "of the fitted growth from {lo} to {hi} {unit} ({growth:.1} ms), the x² term makes \
             {squared:.1} ms (x² coefficient {:.2e} ± {:.1e})",
            q.c, q.se_c
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadratic_fit_recovers_coefficients_and_flags_only_curves() {
        let xs = [1.0, 10.0, 50.0, 200.0];
        let noisy = |f: &dyn Fn(f64) -> f64| -> Vec<(f64, f64)> {
            xs.iter()
                .flat_map(|&x| [-0.2, 0.0, 0.2].map(|e| (x, f(x) + e)))
                .collect()
        };
        let line = noisy(&|x| 5.0 + 0.05 * x);
        let q = quadratic(&line).unwrap();
        assert!((q.b - 0.05).abs() < 1e-3 && q.c.abs() < 1e-5, "{q:?}");
        assert!(superlinear(&line, "mounts").is_none());
        let curve = noisy(&|x| 5.0 + 0.01 * x + 0.0005 * x * x);
        let q = quadratic(&curve).unwrap();
        assert!((q.c - 0.0005).abs() < 1e-5, "{q:?}");
        assert!(superlinear(&curve, "mounts").is_some());
        assert!((slope(&[(0.0, 1.0), (2.0, 5.0)]).unwrap() - 2.0).abs() < 1e-12);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        let ten: Vec<f64> = (1..=11).map(f64::from).collect();
        assert_eq!(quantile(&ten, 0.1), Some(2.0));
        assert_eq!(quantile(&ten, 1.0), Some(11.0));
        assert_eq!(middle_half(&[9.0, 1.0, 2.0, 3.0]), vec![2.0, 3.0]);
    }
}
