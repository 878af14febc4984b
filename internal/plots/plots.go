// Package plots draws the figures of a run with gonum/plot: the learning
// curves and the diagnostics over epochs, and the time course of a traced
// window. A figure is a grid of panels of named series; Save writes it as
// a PNG and its data as CSV (one row per point: panel, series, x, y), so
// every picture can be redrawn from numbers.
package plots

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"git.sr.ht/~sbinet/gg"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/strongdfc/strongdfc/internal/runfolder"
)

// Series is one line of a panel. Points whose X or Y is not finite (or,
// on a logarithmic axis, not positive) are left out of the picture.
type Series struct {
	Name   string
	X, Y   []float64
	Color  int  // index into Palette
	Dashed bool // drawn dashed (e.g. a target)
	// Ticks draws every point as a short vertical tick and no line (a
	// spike raster).
	Ticks bool
	// Marker draws a glyph at every point: "circle", "ring", "triangle",
	// "square" ("": none; a series of one point gets a ring anyway).
	Marker string
	// NoLine draws the markers only.
	NoLine bool
}

// Panel is one plot of a figure. Its legend is drawn beside it, never
// over its data.
type Panel struct {
	Title, XLabel, YLabel string
	// LogY makes the y axis logarithmic: it spans whole decades, ticks
	// are labelled at powers of ten (and at 2 and 5 times them when the
	// axis spans at most two decades), and the label says "log scale".
	LogY bool
	// IntegerX puts the x ticks at whole numbers only (epochs).
	IntegerX bool
	// XMin and XMax fix the x range (padded by 3 %) when XMin < XMax,
	// so that the panels of a figure share one x axis; else it fits the
	// data.
	XMin, XMax float64
	// YMin and YMax fix a linear y range (with 2 % to spare) when
	// YMin < YMax, for quantities with natural bounds such as an
	// accuracy in per cent; else it fits the data.
	YMin, YMax float64
	Series     []Series
}

// Figure is a grid of panels, Cols per row.
type Figure struct {
	Panels []Panel
	Cols   int
	// Width and Height of the whole figure (0: 6 inches per column, 4
	// per row, and the legends' width).
	Width, Height vg.Length
}

// Palette are the series' colours: ten that stay apart (matplotlib's
// tab10), so that the ten classes of a data set each get their own.
var Palette = []color.Color{
	color.RGBA{31, 119, 180, 255}, color.RGBA{255, 127, 14, 255}, color.RGBA{44, 160, 44, 255},
	color.RGBA{214, 39, 40, 255}, color.RGBA{148, 103, 189, 255}, color.RGBA{140, 86, 75, 255},
	color.RGBA{227, 119, 194, 255}, color.RGBA{127, 127, 127, 255}, color.RGBA{188, 189, 34, 255},
	color.RGBA{23, 190, 207, 255},
}

// legendGap is the space between a panel and its legend.
const legendGap = 2 * vg.Millimeter

// WritePNG draws the figure as a PNG.
func (f Figure) WritePNG(w io.Writer) (err error) {
	defer func() {
		// gonum/plot panics on some degenerate data; a figure is never
		// worth a crash.
		if r := recover(); r != nil {
			err = fmt.Errorf("plots: drawing failed: %v", r)
		}
	}()
	cols := max(f.Cols, 1)
	rows := (len(f.Panels) + cols - 1) / cols
	if rows == 0 {
		return fmt.Errorf("plots: a figure without panels")
	}
	grid := make([][]*plot.Plot, rows)
	legends := make([][]plot.Legend, rows)
	legendW := make([]vg.Length, cols) // per column
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
		legends[r] = make([]plot.Legend, cols)
		for c := range grid[r] {
			i := r*cols + c
			if i >= len(f.Panels) {
				continue
			}
			p, err := f.Panels[i].plot()
			if err != nil {
				return err
			}
			// The legend is drawn beside the panel, not on its data.
			legends[r][c], p.Legend = p.Legend, plot.NewLegend()
			legendW[c] = max(legendW[c], legendWidth(legends[r][c]))
			grid[r][c] = p
		}
	}
	width, height := f.Width, f.Height
	if width == 0 {
		width = vg.Length(cols) * 6 * vg.Inch
		for _, lw := range legendW {
			width += lw
		}
	}
	if height == 0 {
		height = vg.Length(rows) * 4 * vg.Inch
	}
	img := newCanvas(width, height)
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(fill(grid), tiles, dc)
	for r := range grid {
		for c := range grid[r] {
			if r*cols+c >= len(f.Panels) {
				continue
			}
			pc, lc := split(canvases[r][c], legendW[c])
			grid[r][c].Draw(pc)
			l := legends[r][c]
			lc.Max.Y = grid[r][c].DataCanvas(pc).Max.Y
			l.Draw(lc)
		}
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	return enc.Encode(w, img.Image())
}

// newCanvas returns a white image canvas of width × height, rounded to
// whole pixels, at vgimg's default resolution. It is vgimg.New without its
// second image: New allocates the picture and its graphics context copies
// it, so drawing a figure would hold two of them (13 MB for a run's
// diagnostics, the largest allocation at an epoch's end;
// docs/performance.md). (vgimg.New keeps the width unrounded: the layout
// differs from its by under half a pixel.)
func newCanvas(width, height vg.Length) *vgimg.Canvas {
	px := func(l vg.Length) int { return int(l/vg.Inch*vgimg.DefaultDPI + 0.5) }
	img := image.NewRGBA(image.Rect(0, 0, px(width), px(height)))
	ctx := gg.NewContextForRGBA(img) // draws into img, no copy
	// What vgimg.NewWith does to a context it makes itself.
	ctx.SetLineCapButt()
	ctx.InvertY()
	return vgimg.NewWith(vgimg.UseImageWithContext(img, ctx)) // white: its default background
}

// legendWidth is the width a legend needs beside its panel (0 without
// entries).
func legendWidth(l plot.Legend) vg.Length {
	r := l.Rectangle(draw.Canvas{})
	if w := r.Max.X - r.Min.X; w > 0 {
		return w + legendGap + vg.Millimeter
	}
	return 0
}

// split cuts a panel's canvas into the plot's and, at its right, the
// legend's of width w.
func split(c draw.Canvas, w vg.Length) (plotC, legendC draw.Canvas) {
	plotC, legendC = c, c
	plotC.Max.X -= w
	legendC.Min.X = plotC.Max.X + legendGap
	return plotC, legendC
}

// fill replaces missing panels by empty plots, which Align needs.
func fill(grid [][]*plot.Plot) [][]*plot.Plot {
	for r := range grid {
		for c := range grid[r] {
			if grid[r][c] == nil {
				p := plot.New()
				p.HideAxes()
				grid[r][c] = p
			}
		}
	}
	return grid
}

func (pn Panel) plot() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = pn.Title
	p.X.Label.Text = pn.XLabel
	p.Y.Label.Text = pn.YLabel
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	p.Legend.ThumbnailWidth = vg.Points(24)
	p.Add(plotter.NewGrid())
	logY := pn.LogY
	var xys []plotter.XYs
	ylo, yhi := math.Inf(1), math.Inf(-1)
	xlo, xhi := math.Inf(1), math.Inf(-1)
	for _, s := range pn.Series {
		var pts plotter.XYs
		for i := range s.X {
			x, y := s.X[i], s.Y[i]
			if !finite(x) || !finite(y) || (logY && y <= 0) {
				continue
			}
			pts = append(pts, plotter.XY{X: x, Y: y})
			ylo, yhi = math.Min(ylo, y), math.Max(yhi, y)
			xlo, xhi = math.Min(xlo, x), math.Max(xhi, x)
		}
		xys = append(xys, pts)
	}
	p.Y.Tick.Marker = linearTicks{}
	if ylo <= yhi {
		if logY {
			p.Y.Scale = plot.LogScale{}
			p.Y.Tick.Marker = logTicks{}
			p.Y.Min, p.Y.Max = decades(ylo, yhi)
		} else {
			var step float64
			p.Y.Min, p.Y.Max, step = padded(ylo, yhi, !raster(pn))
			p.Y.Tick.Marker = linearTicks{Step: step}
		}
	}
	if !logY && pn.YMin < pn.YMax {
		r := pn.YMax - pn.YMin
		p.Y.Min, p.Y.Max = pn.YMin-0.02*r, pn.YMax+0.02*r
		p.Y.Tick.Marker = linearTicks{Step: tickStep(r)}
	}
	if logY {
		p.Y.Label.Text = strings.TrimSpace(p.Y.Label.Text + " (log scale)")
	}
	if pn.XMin < pn.XMax {
		xlo, xhi = pn.XMin, pn.XMax
	}
	if xlo <= xhi {
		if xlo == xhi {
			p.X.Min, p.X.Max = xlo-0.5, xhi+0.5
		} else {
			pad := 0.03 * (xhi - xlo)
			p.X.Min, p.X.Max = xlo-pad, xhi+pad
		}
	}
	p.X.Tick.Marker = linearTicks{}
	if pn.IntegerX {
		p.X.Tick.Marker = integerTicks{}
	}
	for i, s := range pn.Series {
		col := Palette[(s.Color%len(Palette)+len(Palette))%len(Palette)]
		if s.Ticks {
			if len(xys[i]) == 0 {
				continue
			}
			sc, err := plotter.NewScatter(xys[i])
			if err != nil {
				return nil, fmt.Errorf("plots: %s: %s: %w", pn.Title, s.Name, err)
			}
			sc.Color = col
			sc.Shape = tickGlyph{}
			sc.Radius = vg.Points(3)
			p.Add(sc)
			if s.Name != "" {
				p.Legend.Add(s.Name, sc)
			}
			continue
		}
		var thumbs []plot.Thumbnailer
		if !s.NoLine {
			l := &plotter.Line{LineStyle: plotter.DefaultLineStyle}
			l.Color = col
			l.Width = vg.Points(1.5)
			if s.Dashed {
				l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			}
			if len(xys[i]) > 0 {
				l.XYs = xys[i]
				p.Add(l)
			}
			thumbs = append(thumbs, l)
		}
		marker := s.Marker
		if marker == "" && len(xys[i]) == 1 {
			marker = "ring"
		}
		if marker != "" {
			sc := &plotter.Scatter{XYs: xys[i], GlyphStyle: draw.GlyphStyle{Color: col, Radius: vg.Points(3), Shape: glyph(marker)}}
			if len(xys[i]) > 0 {
				p.Add(sc)
			}
			thumbs = append(thumbs, sc)
		}
		if s.Name != "" {
			p.Legend.Add(s.Name, thumbs...)
		}
	}
	return p, nil
}

// glyph returns the shape a marker names.
func glyph(name string) draw.GlyphDrawer {
	switch name {
	case "circle":
		return draw.CircleGlyph{}
	case "triangle":
		return draw.TriangleGlyph{}
	case "square":
		return draw.SquareGlyph{}
	}
	return draw.RingGlyph{}
}

// padded returns a linear axis range around [lo, hi] that the data fill
// (so that they show their change), with 5 % to spare on each side and,
// when round, rounded out to the next labelled ticks, so that a label
// lies below the lowest point and one above the highest; step is the
// step between the labels (0: the ticker's choice).
func padded(lo, hi float64, round bool) (min, max, step float64) {
	r := hi - lo
	if r == 0 {
		r = math.Max(math.Abs(hi)*0.1, 1e-3)
	}
	lo, hi = lo-0.05*r, hi+0.05*r
	if !round {
		return lo, hi, 0
	}
	step = tickStep(hi - lo)
	return math.Floor(lo/step+1e-9) * step, math.Ceil(hi/step-1e-9) * step, step
}

// raster reports whether a panel is a spike raster (its y values are
// neuron numbers).
func raster(pn Panel) bool {
	for _, s := range pn.Series {
		if s.Ticks {
			return true
		}
	}
	return false
}

// decades returns the whole decades around [lo, hi] (both positive):
// every point then lies between two labelled powers of ten.
func decades(lo, hi float64) (float64, float64) {
	a, b := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if b <= a {
		b = a + 1
	}
	return math.Pow(10, a), math.Pow(10, b)
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// tickGlyph draws a vertical tick of the glyph's height, as spike rasters
// mark spikes.
type tickGlyph struct{}

// DrawGlyph implements draw.GlyphDrawer.
func (tickGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.StrokeLine2(draw.LineStyle{Color: sty.Color, Width: vg.Points(1)}, pt.X, pt.Y-sty.Radius, pt.X, pt.Y+sty.Radius)
}

// WriteCSV writes the figure's data, one row per point: panel, series, x,
// y (the full float64 precision; NaN where a value is missing).
func (f Figure) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"panel", "series", "x", "y"}) //nolint:errcheck // checked by Flush/Error
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	for _, pn := range f.Panels {
		for _, s := range pn.Series {
			for i := range s.X {
				cw.Write([]string{pn.Title, s.Name, g(s.X[i]), g(s.Y[i])}) //nolint:errcheck
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// Save writes dir/name.png and dir/name.csv, each atomically.
func (f Figure) Save(dir, name string) error {
	var png bytes.Buffer
	if err := f.WritePNG(&png); err != nil {
		return err
	}
	if err := runfolder.WriteAtomic(filepath.Join(dir, name+".png"), func(w io.Writer) error {
		_, err := w.Write(png.Bytes())
		return err
	}); err != nil {
		return err
	}
	return runfolder.WriteAtomic(filepath.Join(dir, name+".csv"), f.WriteCSV)
}

// logTicks labels a logarithmic axis at powers of ten (every second or
// fifth beyond eight decades), with unlabelled ticks at their multiples
// 2..9; when the axis spans at most two decades, 2 and 5 times the
// powers are labelled too.
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0 && max > min) {
		return nil
	}
	a, b := int(math.Floor(math.Log10(min)+1e-9)), int(math.Ceil(math.Log10(max)-1e-9))
	span := b - a
	stride := 1
	switch {
	case span > 20:
		stride = 5
	case span > 8:
		stride = 2
	}
	in := func(v float64) bool { return v >= min*(1-1e-9) && v <= max*(1+1e-9) }
	// One style per axis: decimals when every label reads short as one
	// (0.001 … 10000), else e notation (1e-4, 2e-6), never 5e-06 next to
	// 0.001.
	plain := a >= -3 && b <= 4
	var ticks []plot.Tick
	for e := a; e <= b; e++ {
		pow := math.Pow(10, float64(e))
		if in(pow) {
			t := plot.Tick{Value: pow}
			if (e-a)%stride == 0 {
				t.Label = tickLabel(1, e, plain)
			}
			ticks = append(ticks, t)
		}
		if span > 6 {
			continue
		}
		for m := 2; m <= 9; m++ {
			v := float64(m) * pow
			if !in(v) {
				continue
			}
			t := plot.Tick{Value: v}
			if span <= 2 && (m == 2 || m == 5) {
				t.Label = tickLabel(m, e, plain)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// tickLabel writes the tick m·10^e of a log axis: as a decimal (0.002,
// 50) when plain, else in e notation with the exponent as short as it
// goes (1e-4, 2e-6, 1e5; the font has no superscript minus).
func tickLabel(m, e int, plain bool) string {
	if plain {
		v := float64(m) * math.Pow(10, float64(e))
		return strconv.FormatFloat(v, 'f', max(0, -e), 64)
	}
	return strconv.Itoa(m) + "e" + strconv.Itoa(e)
}

// linearTicks labels a linear axis at 3 to 10 round values, 1, 2 or 5
// times a power of ten apart, each written with the decimals the step
// needs (so that no two labels read alike), with unlabelled ticks
// between them.
type linearTicks struct {
	// Step between the labels (0: 1, 2 or 5 times a power of ten that
	// gives 3 to 10 labels).
	Step float64
}

// Ticks implements plot.Ticker.
func (lt linearTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || !finite(lo) || !finite(hi) {
		return nil
	}
	step := lt.Step
	if !(step > 0) || (hi-lo)/step > 20 {
		step = tickStep(hi - lo)
	}
	decimals := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	var ticks []plot.Tick
	first := math.Ceil(lo/step - 1e-9)
	for k := first; k*step <= hi+1e-9*step; k++ {
		v := k * step
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v+0, 'f', decimals, 64)})
		if mid := v + step/2; mid <= hi {
			ticks = append(ticks, plot.Tick{Value: mid})
		}
	}
	if mid := (first - 0.5) * step; mid >= lo {
		ticks = append(ticks, plot.Tick{Value: mid})
	}
	return ticks
}

// tickStep is the step between the labelled ticks of a linear axis of
// length r: 1, 2 or 5 times a power of ten, 3 to 10 steps in r.
func tickStep(r float64) float64 {
	step := math.Pow(10, math.Floor(math.Log10(r))) // r/10 < step ≤ r
	for _, m := range []float64{1, 0.5, 0.2, 0.1} {
		if n := r / (step * m); n >= 3 {
			return step * m
		}
	}
	return step * 0.1
}

// integerTicks puts ticks at whole numbers, 1, 2, 5, 10, 20, ... apart,
// so that at most ten are labelled.
type integerTicks struct{}

// Ticks implements plot.Ticker.
func (integerTicks) Ticks(min, max float64) []plot.Tick {
	lo, hi := math.Ceil(min), math.Floor(max)
	if hi < lo {
		return nil
	}
	step := 1.0
	for k := 0; (hi-lo)/step > 10; k++ {
		step = []float64{2, 5, 10}[k%3] * math.Pow(10, float64(k/3))
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v+0, 'f', 0, 64)}) // +0: no "-0"
	}
	return ticks
}
