package reports

import (
	"fmt"
	"math"
	"strings"
)

// Charts are computed here as coordinates and drawn by the "barchart" and "linechart" templates
// as inline SVG, so every label goes through html/template's escaping.

// palette colours series; it is distinct enough for a dozen servers and repeats beyond.
var palette = []string{"#2456a6", "#d2691e", "#2e9e4f", "#b3261e", "#7b4bb7", "#0f8b8d", "#c7a000", "#e0569b", "#5d6678", "#8c564b", "#1f9bd1", "#6a994e"}

func colour(i int) string { return palette[i%len(palette)] }

// tick is an axis mark at a pixel position.
type tick struct {
	Pos   float64
	Label string
}

// barChart is a horizontal bar chart: one bar per item, with an optional whisker for its spread.
type barChart struct {
	Width, Height float64
	LabelW        float64 // room for the labels left of the bars
	PlotW         float64
	Bars          []bar
	Ticks         []tick
	Unit          string
}

type bar struct {
	Label     string
	Y, W      float64
	Value     string
	Colour    string
	Lo, Hi    float64 // whisker ends in pixels; Hi == 0 means none
	TextX     float64 // where the value is written: past the bar and its whisker
	Highlight bool    // drawn with a dark outline (the reference server)
}

// barItem is one value to draw as a bar; Lo and Hi are its spread (both 0 when unknown).
type barItem struct {
	Label         string
	Value, Lo, Hi float64
	Highlight     bool
}

const barH, barGap = 18.0, 6.0

// newBarChart scales items to a shared axis starting at 0; format renders a value.
func newBarChart(items []barItem, unit string, format func(float64) string) *barChart {
	longest := 0
	maxV := 0.0
	for _, it := range items {
		longest = max(longest, len([]rune(it.Label)))
		maxV = max(maxV, it.Value, it.Hi)
	}
	c := &barChart{LabelW: math.Min(float64(longest)*6.6+10, 240), PlotW: 460, Unit: unit}
	c.Width = c.LabelW + c.PlotW + 90
	c.Height = float64(len(items))*(barH+barGap) + 28
	step := niceStep(maxV, 5)
	top := math.Max(step, math.Ceil(maxV/step)*step)
	px := func(v float64) float64 { return c.LabelW + v/top*c.PlotW }
	for v := 0.0; v <= top+step/2; v += step {
		c.Ticks = append(c.Ticks, tick{Pos: px(v), Label: format(v)})
	}
	for i, it := range items {
		b := bar{Label: it.Label, Y: float64(i)*(barH+barGap) + 4, W: px(it.Value) - c.LabelW, Value: format(it.Value) + " " + unit,
			Colour: colour(i), Highlight: it.Highlight}
		if it.Hi > 0 && it.Hi > it.Lo {
			b.Lo, b.Hi = px(it.Lo), px(it.Hi)
		}
		b.TextX = max(c.LabelW+b.W, b.Hi) + 6
		c.Bars = append(c.Bars, b)
	}
	return c
}

// lineChart draws series over shared axes; the y axis may be logarithmic (latencies).
type lineChart struct {
	Width, Height           float64
	Left, Top, PlotW, PlotH float64
	Series                  []series
	XTicks, YTicks          []tick
	YUnit                   string
}

type series struct {
	Label  string
	Colour string
	Points string // SVG polyline points
	Dots   []dot
}

type dot struct {
	X, Y   float64
	Title  string
	Marked bool // drawn large and red: a regression
}

// point is a value at an x position in data units.
type point struct {
	X, Y   float64
	Title  string
	Marked bool
}

type lineSeries struct {
	Label  string
	Points []point
}

// newLineChart lays out series; xTicks are in data units, yLog picks a log10 y axis.
func newLineChart(in []lineSeries, xTicks []point, yUnit string, yLog bool) *lineChart {
	c := &lineChart{Left: 64, Top: 12, PlotW: 560, PlotH: 240, YUnit: yUnit}
	c.Width, c.Height = c.Left+c.PlotW+180, c.Top+c.PlotH+40
	minX, maxX := math.Inf(1), math.Inf(-1)
	minY, maxY := math.Inf(1), math.Inf(-1)
	for _, s := range in {
		for _, p := range s.Points {
			minX, maxX = math.Min(minX, p.X), math.Max(maxX, p.X)
			minY, maxY = math.Min(minY, p.Y), math.Max(maxY, p.Y)
		}
	}
	for _, t := range xTicks {
		minX, maxX = math.Min(minX, t.X), math.Max(maxX, t.X)
	}
	if math.IsInf(minX, 0) {
		return c
	}
	if maxX == minX {
		minX, maxX = minX-1, maxX+1
	}
	fy := func(v float64) float64 { return v }
	var yt []float64
	if yLog {
		minY = math.Max(minY, 0.001)
		lo, hi := math.Floor(math.Log10(minY)), math.Ceil(math.Log10(math.Max(maxY, minY*1.01)))
		if hi == lo {
			hi++
		}
		minY, maxY = lo, hi
		fy = func(v float64) float64 { return math.Log10(math.Max(v, 0.001)) }
		for e := lo; e <= hi; e++ {
			yt = append(yt, e)
		}
	} else {
		step := niceStep(maxY, 5)
		minY, maxY = 0, math.Max(step, math.Ceil(maxY/step)*step)
		for v := 0.0; v <= maxY+step/2; v += step {
			yt = append(yt, v)
		}
	}
	px := func(x float64) float64 { return c.Left + (x-minX)/(maxX-minX)*c.PlotW }
	py := func(y float64) float64 { return c.Top + c.PlotH - (fy(y)-minY)/(maxY-minY)*c.PlotH }
	for _, v := range yt {
		if yLog {
			c.YTicks = append(c.YTicks, tick{Pos: c.Top + c.PlotH - (v-minY)/(maxY-minY)*c.PlotH, Label: formatNum(math.Pow(10, v))})
		} else {
			c.YTicks = append(c.YTicks, tick{Pos: py(v), Label: formatNum(v)})
		}
	}
	for _, t := range xTicks {
		c.XTicks = append(c.XTicks, tick{Pos: px(t.X), Label: t.Title})
	}
	for i, s := range in {
		out := series{Label: s.Label, Colour: colour(i)}
		var pts []string
		for _, p := range s.Points {
			d := dot{X: px(p.X), Y: py(p.Y), Title: p.Title, Marked: p.Marked}
			out.Dots = append(out.Dots, d)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", d.X, d.Y))
		}
		out.Points = strings.Join(pts, " ")
		c.Series = append(c.Series, out)
	}
	return c
}

// niceStep is a 1, 2 or 5 × 10^k step that divides [0, maxV] into about n parts.
func niceStep(maxV float64, n int) float64 {
	if maxV <= 0 {
		return 1
	}
	raw := maxV / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*mag {
			return m * mag
		}
	}
	return 10 * mag
}

// formatNum prints a number with three significant digits and k/M suffixes.
func formatNum(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e6:
		return trimZeros(fmt.Sprintf("%.2f", v/1e6)) + "M"
	case a >= 1e4:
		return trimZeros(fmt.Sprintf("%.1f", v/1e3)) + "k"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return trimZeros(fmt.Sprintf("%.1f", v))
	case a >= 1:
		return trimZeros(fmt.Sprintf("%.2f", v))
	case a == 0:
		return "0"
	}
	return trimZeros(fmt.Sprintf("%.3g", v))
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
