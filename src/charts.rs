//! SVG charts of measured data, drawn with plotters: the book's pictures come
//! from the same figures as its tables, never by hand.

use plotters::prelude::*;

/// What a bar stands for, which sets its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A workbook solution.
    Solution,
    /// A learner's crate (`learner/…`).
    Learner,
    /// Plain allocation from std.
    Std,
    /// A crate a user would otherwise pick, or a variant.
    Other,
}

impl Kind {
    fn color(self) -> RGBColor {
        match self {
            Kind::Solution => RGBColor(0x2b, 0x6c, 0xb0),
            Kind::Learner => RGBColor(0x2f, 0x9e, 0x44),
            Kind::Std => RGBColor(0xc0, 0x39, 0x2b),
            Kind::Other => RGBColor(0x88, 0x88, 0x88),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Solution => "workbook solution",
            Kind::Learner => "learner's crate",
            Kind::Std => "plain std allocation",
            Kind::Other => "other crate or variant",
        }
    }
}

/// Draws the legend of the labelled series, boxed, at `position`.
fn draw_legend<'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
    position: SeriesLabelPosition,
) -> anyhow::Result<()> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 13))
        .draw()?;
    Ok(())
}

/// One bar: a bench id, its value and its kind.
#[derive(Debug, Clone)]
pub struct Bar {
    /// The bench id, shown beside the bar.
    pub label: String,
    /// The value (ns per operation).
    pub value: f64,
    /// What it stands for.
    pub kind: Kind,
}

/// A horizontal bar chart, one bar per id, as an SVG document.
///
/// # Errors
/// When plotters cannot draw (it should not, on an in-memory SVG).
pub fn bar_chart(title: &str, x_label: &str, bars: &[Bar]) -> anyhow::Result<String> {
    let mut svg = String::new();
    let height = 90 + 34 * bars.len() as u32;
    {
        let root = SVGBackend::with_string(&mut svg, (760, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let cut = cut_at(bars);
        let max = match cut {
            Some(cut) => cut * 1.3,
            None => bars.iter().map(|b| b.value).fold(0.0_f64, f64::max) * 1.2,
        };
        let n = bars.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(210)
            .build_cartesian_2d(0.0..max.max(1e-9), (0..n - 1).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE)
            .x_desc(x_label)
            .y_labels(n)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => n
                    .checked_sub(1 + *i)
                    .and_then(|row| bars.get(row))
                    .map(|b| b.label.clone())
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .label_style(("sans-serif", 14))
            .draw()?;
        for (i, bar) in bars.iter().enumerate() {
            let row = n - 1 - i;
            let color = bar.kind.color();
            let (end, label) = match cut {
                Some(cut) if bar.value > cut => (cut, format!("{:.2} (bar cut)", bar.value)),
                _ => (bar.value, format!("{:.2}", bar.value)),
            };
            let mut rectangle = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(row)),
                    (end, SegmentValue::Exact(row + 1)),
                ],
                color.filled(),
            );
            rectangle.set_margin(4, 4, 0, 0);
            chart.draw_series(std::iter::once(rectangle))?;
            chart.draw_series(std::iter::once(
                EmptyElement::at((end, SegmentValue::CenterOf(row)))
                    + Text::new(label, (6, -7), ("sans-serif", 13).into_font().color(&BLACK)),
            ))?;
        }
        let mut kinds: Vec<Kind> = bars.iter().map(|b| b.kind).collect();
        kinds.dedup();
        kinds.sort_by_key(|k| *k as u8);
        kinds.dedup();
        for kind in kinds {
            chart
                .draw_series(std::iter::empty::<Rectangle<(f64, SegmentValue<usize>)>>())?
                .label(kind.label())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], kind.color().filled())
                });
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present()?;
    }
    Ok(svg)
}

/// Where to cut bars so that the others stay readable: when the largest bar
/// is more than 20 times the next one, the bars above 1.5 times that next one
/// end there (and say so in their label). `None`: draw every bar whole.
fn cut_at(bars: &[Bar]) -> Option<f64> {
    let mut values: Vec<f64> = bars.iter().map(|b| b.value).collect();
    values.sort_by(f64::total_cmp);
    match values[..] {
        [.., next, largest] if next > 0.0 && largest > 20.0 * next => Some(1.5 * next),
        _ => None,
    }
}

/// One line of a line chart: a name for the legend and its points.
#[derive(Debug, Clone)]
pub struct Series {
    /// The legend's name for it.
    pub name: String,
    /// `(x, y)` points, in order of x.
    pub points: Vec<(f64, f64)>,
}

/// A palette that stays readable for a handful of lines.
const LINE_COLORS: [RGBColor; 6] = [
    RGBColor(0x2b, 0x6c, 0xb0),
    RGBColor(0xc0, 0x39, 0x2b),
    RGBColor(0x2f, 0x9e, 0x44),
    RGBColor(0x8e, 0x44, 0xad),
    RGBColor(0xd3, 0x84, 0x00),
    RGBColor(0x55, 0x55, 0x55),
];

/// A line chart of several series, with labelled axes and a legend, as an
/// SVG document: for sweeps (hit rate, pool size) and thread scaling.
///
/// # Errors
/// When plotters cannot draw (it should not, on an in-memory SVG).
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> anyhow::Result<String> {
    let points = || series.iter().flat_map(|s| s.points.iter().copied());
    let (x_min, x_max) = points().fold((f64::MAX, f64::MIN), |(lo, hi), (x, _)| {
        (lo.min(x), hi.max(x))
    });
    let y_max = points().map(|(_, y)| y).fold(0.0_f64, f64::max) * 1.15;
    let (x_min, x_max) = if x_min < x_max {
        (x_min, x_max)
    } else {
        (0.0, 1.0)
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 420)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(x_min..x_max, 0.0..y_max.max(1e-9))?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_desc(x_label)
            .y_desc(y_label)
            .label_style(("sans-serif", 14))
            .draw()?;
        for (i, line) in series.iter().enumerate() {
            let color = LINE_COLORS[i % LINE_COLORS.len()];
            chart
                .draw_series(LineSeries::new(
                    line.points.iter().copied(),
                    color.stroke_width(2),
                ))?
                .label(line.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2))
                });
            chart.draw_series(
                line.points
                    .iter()
                    .map(|&point| Circle::new(point, 3, color.filled())),
            )?;
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        root.present()?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_chart_labels_every_bar_and_its_value() {
        let svg = bar_chart(
            "custom_allocators",
            "ns per operation",
            &[
                Bar {
                    label: "fixed_size_pool".into(),
                    value: 2.42,
                    kind: Kind::Solution,
                },
                Bar {
                    label: "standard_allocation".into(),
                    value: 14.24,
                    kind: Kind::Std,
                },
            ],
        )
        .unwrap();
        for text in [
            "fixed_size_pool",
            "standard_allocation",
            "2.42",
            "14.24",
            "ns per operation",
            "plain std allocation",
        ] {
            assert!(svg.contains(text), "{text} in the chart");
        }
    }

    #[test]
    fn a_bar_far_longer_than_the_others_is_cut_so_they_stay_readable() {
        let bar = |label: &str, value: f64| Bar {
            label: label.into(),
            value,
            kind: Kind::Std,
        };
        let bars = [bar("pool", 5.5), bar("malloc", 40.6), bar("mmap", 5255.9)];
        assert_eq!(
            cut_at(&bars),
            Some(1.5 * 40.6),
            "the largest bar is over 20 times the next: bars end at 1.5 times the next one"
        );
        let svg = bar_chart("first call", "ns per operation", &bars).unwrap();
        assert!(
            svg.contains("5255.90 (bar cut)") && svg.contains("40.60"),
            "a cut bar still shows its whole value, and says it is cut"
        );
        assert_eq!(
            cut_at(&bars[..2]),
            None,
            "bars within 20 times of each other are drawn whole"
        );
    }

    #[test]
    fn a_line_chart_names_its_axes_and_every_series() {
        let svg = line_chart(
            "scaling",
            "threads",
            "ns per operation",
            &[
                Series {
                    name: "pool".into(),
                    points: vec![(1.0, 10.0), (2.0, 6.0), (4.0, 7.0)],
                },
                Series {
                    name: "Mutex<Vec<T>>".into(),
                    points: vec![(1.0, 20.0), (2.0, 45.0), (4.0, 90.0)],
                },
            ],
        )
        .unwrap();
        for text in [
            "threads",
            "ns per operation",
            "pool",
            "Mutex&lt;Vec&lt;T&gt;&gt;",
        ] {
            assert!(svg.contains(text), "{text} in the chart");
        }
    }
}
