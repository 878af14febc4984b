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
	"image/color"
	"image/png"
	"io"
	"math"
	"path/filepath"
	"strconv"

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
}

// Panel is one plot of a figure.
type Panel struct {
	Title, XLabel, YLabel string
	LogY                  bool
	Series                []Series
}

// Figure is a grid of panels, Cols per row.
type Figure struct {
	Panels []Panel
	Cols   int
	// Width and Height of the whole figure (0: 6 inches per column, 4
	// per row).
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
	width, height := f.Width, f.Height
	if width == 0 {
		width = vg.Length(cols) * 6 * vg.Inch
	}
	if height == 0 {
		height = vg.Length(rows) * 4 * vg.Inch
	}
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
		for c := range grid[r] {
			i := r*cols + c
			if i < len(f.Panels) {
				p, err := f.Panels[i].plot()
				if err != nil {
					return err
				}
				grid[r][c] = p
			} else {
				grid[r][c] = nil
			}
		}
	}
	img := vgimg.New(width, height)
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(fill(grid), tiles, dc)
	for r := range grid {
		for c := range grid[r] {
			if r*cols+c < len(f.Panels) {
				grid[r][c].Draw(canvases[r][c])
			}
		}
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	return enc.Encode(w, img.Image())
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
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	logY := pn.LogY
	var xys []plotter.XYs
	for _, s := range pn.Series {
		var pts plotter.XYs
		for i := range s.X {
			x, y := s.X[i], s.Y[i]
			if !finite(x) || !finite(y) || (logY && y <= 0) {
				continue
			}
			pts = append(pts, plotter.XY{X: x, Y: y})
		}
		xys = append(xys, pts)
	}
	if logY {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, pts := range xys {
			for _, pt := range pts {
				lo, hi = math.Min(lo, pt.Y), math.Max(hi, pt.Y)
			}
		}
		if lo <= hi {
			if hi/lo < 1.5 { // a flat line: give the axis some room
				lo, hi = lo/1.5, hi*1.5
			}
			p.Y.Scale = plot.LogScale{}
			p.Y.Tick.Marker = logTicks{}
			p.Y.Min, p.Y.Max = lo, hi
		}
	}
	for i, s := range pn.Series {
		if len(xys[i]) == 0 {
			continue
		}
		if s.Ticks {
			sc, err := plotter.NewScatter(xys[i])
			if err != nil {
				return nil, fmt.Errorf("plots: %s: %s: %w", pn.Title, s.Name, err)
			}
			sc.Color = Palette[(s.Color%len(Palette)+len(Palette))%len(Palette)]
			sc.Shape = tickGlyph{}
			sc.Radius = vg.Points(3)
			p.Add(sc)
			if s.Name != "" {
				p.Legend.Add(s.Name, sc)
			}
			continue
		}
		l, err := plotter.NewLine(xys[i])
		if err != nil {
			return nil, fmt.Errorf("plots: %s: %s: %w", pn.Title, s.Name, err)
		}
		l.Color = Palette[(s.Color%len(Palette)+len(Palette))%len(Palette)]
		l.Width = vg.Points(1.5)
		if s.Dashed {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		p.Add(l)
		if len(xys[i]) == 1 {
			sc, err := plotter.NewScatter(xys[i])
			if err == nil {
				sc.Color = l.Color
				p.Add(sc)
			}
		}
		if s.Name != "" {
			p.Legend.Add(s.Name, l)
		}
	}
	return p, nil
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

// logTicks labels a logarithmic axis: powers of ten when the range spans
// two decades or more, else evenly spaced values (plot.LogTicks would
// leave a narrow range without labels).
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	if max/min >= 100 {
		return plot.LogTicks{Prec: -1}.Ticks(min, max)
	}
	return plot.DefaultTicks{}.Ticks(min, max)
}
