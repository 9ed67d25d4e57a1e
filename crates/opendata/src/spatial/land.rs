//! Hong Kong's land, simplified for placing synthetic points: a few polygons drawn a little
//! inside the coast of Hong Kong Island, Kowloon, the New Territories, Lantau, the airport
//! island, Tsing Yi, Lamma and Cheung Chau (WGS84 longitude, latitude). They leave out much
//! land (Sai Kung's coves, the smaller islands) rather than take in any sea, so a point inside
//! them is on land. Not a map: only for the demo's synthetic layers.

/// Hong Kong's bounding box: west, south, east, north.
pub const HK_BBOX: [f64; 4] = [113.82, 22.15, 114.45, 22.57];

/// A named area of land, with how much of the synthetic content it draws (its weight).
#[derive(Debug, Clone, Copy)]
pub struct LandArea {
    pub name: &'static str,
    pub weight: u32,
    pub ring: &'static [(f64, f64)],
}

pub const LAND: [LandArea; 11] = [
    LandArea {
        name: "Hong Kong Island",
        weight: 26,
        ring: &[
            (114.135, 22.278),
            (114.160, 22.280),
            (114.185, 22.277),
            (114.205, 22.283),
            (114.225, 22.274),
            (114.237, 22.262),
            (114.240, 22.248),
            (114.205, 22.246),
            (114.190, 22.250),
            (114.160, 22.256),
            (114.140, 22.263),
        ],
    },
    LandArea {
        name: "Kowloon",
        weight: 30,
        ring: &[
            (114.168, 22.300),
            (114.185, 22.306),
            (114.205, 22.322),
            (114.225, 22.310),
            (114.230, 22.330),
            (114.200, 22.345),
            (114.160, 22.340),
            (114.155, 22.330),
            (114.165, 22.315),
        ],
    },
    LandArea {
        name: "Sha Tin and Tai Wai",
        weight: 9,
        ring: &[
            (114.160, 22.362),
            (114.215, 22.360),
            (114.210, 22.395),
            (114.180, 22.405),
            (114.155, 22.395),
        ],
    },
    LandArea {
        name: "Tsuen Wan, Kwai Chung and Tai Mo Shan",
        weight: 8,
        ring: &[
            (114.105, 22.375),
            (114.130, 22.362),
            (114.158, 22.360),
            (114.150, 22.400),
            (114.120, 22.420),
            (114.080, 22.405),
        ],
    },
    LandArea {
        name: "North-west New Territories",
        weight: 14,
        ring: &[
            (113.980, 22.400),
            (114.020, 22.400),
            (114.060, 22.420),
            (114.120, 22.440),
            (114.160, 22.470),
            (114.180, 22.500),
            (114.140, 22.510),
            (114.080, 22.500),
            (114.030, 22.488),
            (114.000, 22.470),
            (113.990, 22.440),
        ],
    },
    LandArea {
        name: "Ma On Shan and Tseung Kwan O hills",
        weight: 5,
        ring: &[
            (114.220, 22.370),
            (114.260, 22.370),
            (114.250, 22.400),
            (114.222, 22.400),
        ],
    },
    LandArea {
        name: "Lantau",
        weight: 4,
        ring: &[
            (113.870, 22.250),
            (113.900, 22.237),
            (113.950, 22.237),
            (113.980, 22.252),
            (114.000, 22.270),
            (114.020, 22.290),
            (113.980, 22.290),
            (113.940, 22.280),
            (113.900, 22.270),
        ],
    },
    LandArea {
        name: "Chek Lap Kok (the airport)",
        weight: 1,
        ring: &[
            (113.905, 22.305),
            (113.935, 22.305),
            (113.935, 22.318),
            (113.905, 22.318),
        ],
    },
    LandArea {
        name: "Tsing Yi",
        weight: 2,
        ring: &[
            (114.095, 22.345),
            (114.110, 22.340),
            (114.115, 22.355),
            (114.100, 22.360),
        ],
    },
    LandArea {
        name: "Lamma Island",
        weight: 1,
        ring: &[
            (114.120, 22.210),
            (114.130, 22.200),
            (114.140, 22.210),
            (114.130, 22.225),
        ],
    },
    LandArea {
        name: "Cheung Chau",
        weight: 1,
        ring: &[
            (114.025, 22.205),
            (114.030, 22.205),
            (114.030, 22.212),
            (114.025, 22.212),
        ],
    },
];

/// Whether a point is inside a ring (even–odd rule; the ring need not repeat its first point).
pub fn in_ring(ring: &[(f64, f64)], lon: f64, lat: f64) -> bool {
    let mut inside = false;
    let mut previous = ring.last().copied();
    for &(x, y) in ring {
        if let Some((px, py)) = previous {
            if (y > lat) != (py > lat) && lon < (px - x) * (lat - y) / (py - y) + x {
                inside = !inside;
            }
        }
        previous = Some((x, y));
    }
    inside
}

/// Whether a point is on one of the land polygons.
pub fn on_land(lon: f64, lat: f64) -> bool {
    LAND.iter().any(|a| in_ring(a.ring, lon, lat))
}

/// A ring's bounding box: west, south, east, north.
pub fn ring_bbox(ring: &[(f64, f64)]) -> [f64; 4] {
    ring.iter().fold(
        [f64::MAX, f64::MAX, f64::MIN, f64::MIN],
        |[w, s, e, n], &(x, y)| [w.min(x), s.min(y), e.max(x), n.max(y)],
    )
}

/// A district: English, 繁體, 简体, and a point near its centre (longitude, latitude).
pub type District = (&'static str, &'static str, &'static str, (f64, f64));

/// The 18 districts.
pub const DISTRICTS: [District; 18] = [
    ("Central and Western", "中西區", "中西区", (114.150, 22.280)),
    ("Wan Chai", "灣仔區", "湾仔区", (114.180, 22.275)),
    ("Eastern", "東區", "东区", (114.222, 22.275)),
    ("Southern", "南區", "南区", (114.170, 22.248)),
    ("Yau Tsim Mong", "油尖旺區", "油尖旺区", (114.170, 22.310)),
    ("Sham Shui Po", "深水埗區", "深水埗区", (114.160, 22.332)),
    ("Kowloon City", "九龍城區", "九龙城区", (114.188, 22.322)),
    ("Wong Tai Sin", "黃大仙區", "黄大仙区", (114.200, 22.340)),
    ("Kwun Tong", "觀塘區", "观塘区", (114.225, 22.315)),
    ("Kwai Tsing", "葵青區", "葵青区", (114.125, 22.355)),
    ("Tsuen Wan", "荃灣區", "荃湾区", (114.110, 22.380)),
    ("Tuen Mun", "屯門區", "屯门区", (113.985, 22.405)),
    ("Yuen Long", "元朗區", "元朗区", (114.035, 22.450)),
    ("North", "北區", "北区", (114.135, 22.495)),
    ("Tai Po", "大埔區", "大埔区", (114.160, 22.450)),
    ("Sha Tin", "沙田區", "沙田区", (114.195, 22.385)),
    ("Sai Kung", "西貢區", "西贡区", (114.245, 22.380)),
    ("Islands", "離島區", "离岛区", (113.950, 22.260)),
];

/// The district whose centre is nearest the point.
pub fn district_of(lon: f64, lat: f64) -> Option<&'static District> {
    let distance = |d: &District| (d.3 .0 - lon).powi(2) + (d.3 .1 - lat).powi(2);
    DISTRICTS
        .iter()
        .min_by(|a, b| distance(a).total_cmp(&distance(b)))
}
