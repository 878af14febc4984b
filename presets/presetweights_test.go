package presets

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"strings"
	"testing"

	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/dataset"
	"github.com/strongdfc/strongdfc/internal/synth"
	"github.com/strongdfc/strongdfc/train"
)

// presetWeights are the final weights of every preset after a short
// training run (presetWeightsRun), recorded on 2026-11-29 with commit
// 175a25b, before the architecture redesign (issue 9), so that the
// redesign provably changes no result. Hash is the SHA-256 of every
// weight's bits (W, b, Q of each layer, in order) with the pure-Go
// backend; Probe are four projections of the weights onto fixed
// pseudo-random vectors, compared with a relative tolerance under other
// backends (OpenBLAS rounds differently).
var presetWeights = map[string]struct {
	Hash  string
	Probe [4]float64
}{
	"fashion-mnist-bp":                {"0d55a5e24e956531e5c5ed37def1ddf9fb891cfd3d655ef92c5d65e8ce5b99c4", [4]float64{-4.276125189794215, -4.0178323652289984, 2.1265942871767587, 5.155555326788064}},
	"fashion-mnist-dfc":               {"6f7fa286ea20fc60ddf9fe0f7d922735abad4016f622e7362a6cbbf6513ac4f1", [4]float64{-4.173459983416882, -3.9783590711907526, 2.0450472006337956, 5.072454532493838}},
	"fashion-mnist-dfc-ss":            {"b2f8fa37fd441b25c0b67d64f61476fe1b326e603817e077dcd529cdea901823", [4]float64{-4.166631885420782, -3.9831150299067013, 2.0356746758666913, 5.072196212416873}},
	"fashion-mnist-dfc-ssa":           {"a5b09d09fad0327e760d5a1c235be4bcb27dee7e26d798324d3a142b83e4ccd3", [4]float64{-4.164622932577556, -3.9826965519833784, 2.0338896077320494, 5.070822727223483}},
	"fashion-mnist-strong-dfc":        {"a3cab42c9dc612eb32bcfdbeb5d1c19cc8a4a7b72da9cc3152441d9b7e2e8ef4", [4]float64{-4.171819539998267, -3.9487491252575353, 2.059248008920731, 5.050441985725175}},
	"fashion-mnist-strong-dfc-2phase": {"881051ee700cc9839fa75fabc4bdb81981755daf78494d92be7e2e5cdf358845", [4]float64{-4.154508988003071, -3.950386513473206, 2.0410614580661455, 5.042349611840201}},
	"mnist-bp":                        {"f651afc589254b7ea801575b2884156c67a7c388e8dc96c8bda8f008ff3d97f1", [4]float64{-4.327868251247143, -4.119278560027513, 2.1240638720756353, 5.255647755435606}},
	"mnist-dfc":                       {"7fc5c732c27b2361108779868ca06650e6ca1b86b70c1fb06023b5b5e87473a1", [4]float64{-3.9181439716815434, -3.9528136283024686, 1.8033979409970784, 4.917627301823915}},
	"mnist-dfc-ss":                    {"b9a6e15305bea8214a3729df2befa96c6895c9a786f5ef09c72059183b029894", [4]float64{-3.916342662470449, -3.9351364625602336, 1.811053874044885, 4.904046042326307}},
	"mnist-dfc-ssa":                   {"ea5d001456ca5c666037205543533c68e0ec8bf66caa34bdb140f088f574635c", [4]float64{-3.911067414178533, -3.9304057306724642, 1.808309556229998, 4.89784710683683}},
	"mnist-strong-dfc":                {"5adb772f803a3fa8fcb39314662283084afe300db769739876d28923fc629d19", [4]float64{-4.22896949359955, -3.9720613780448053, 2.103925961895621, 5.097656838684698}},
	"mnist-strong-dfc-2phase":         {"ec3ac5a769ff02bc63d776997a92a45fce4278a19c3ea35ff519bb77dc26d730", [4]float64{-4.194255288715095, -3.9640644841581674, 2.0734900765057893, 5.073376817418197}},
	// Recorded when the online and stream presets were added (issue 11);
	// the stream presets' again on 2026-12-03, when they took the filtered
	// basal prediction and the leaky controller (presets.Stream), and all
	// four again on 2026-12-03 (the fourth session), when the stream
	// presets took forward_settle 40 and the online and stream presets
	// Adam's window second moment (presets.Online).
	"fashion-mnist-strong-dfc-online": {"6372236a27eebf975b2c47b035db859b4be7dcef514ccab1c83405dbc50accd0", [4]float64{-4.1686101292667725, -3.944938989955723, 2.0580770116495093, 5.046005369626611}},
	"fashion-mnist-strong-dfc-stream": {"54ff829acf5ee0191dab39dd71f283e17f481933d90115267f585b73dd7c1ea6", [4]float64{-4.1609880920504008, -3.9313009192419615, 2.0577513103143974, 5.0321930494616005}},
	"mnist-strong-dfc-online":         {"7446d1a06b0c7e8a62dc991df0737b3be7c225dee7e16e65852ea5ec66c32a38", [4]float64{-4.227594770401071, -3.9703728161414493, 2.1034546153595595, 5.0957161074888}},
	"mnist-strong-dfc-stream":         {"d3fcc19452cf58f362483a1f72a581efdb69aab587352835c65b1b3217758274", [4]float64{-4.2237388675871266, -3.966134773387191, 2.1018660554904671, 5.0906281889261678}},
	// Recorded when the spiking presets were added (issue 12), again on
	// 2026-12-03 when they took the filtered basal prediction, and on
	// 2026-12-04 when they took traces of τ_s = 0.03 and learn_from:
	// intensity.
	"fashion-mnist-spiking-strong-dfc": {"3d41ac82e3536fbb75c07cef702668ca191e09e5cba9f6085de18dbc8a34d85d", [4]float64{-4.1655145047289297, -3.9495215147998741, 2.0525297470557571, 5.0476201209089595}},
	"mnist-spiking-strong-dfc":         {"923dba7f3e2c30bcbb4b7c43c2228634f2dc4ea2860d69a33b9c55a52dd3e077", [4]float64{-4.2262580011230959, -3.9717153965061227, 2.1013995687318152, 5.0959592427220874}},
}

// presetWeightsRun shrinks a preset to a 16-12-12-4 network on 400
// synthetic samples (at the preset's batch size, so the last minibatch
// is partial), one training epoch and at most one pre-training epoch,
// with the preset's dynamics, windows, rules and optimizers.
func presetWeightsRun(c train.Config) train.Config {
	c.Hidden = []int{12, 12}
	c.Epochs = 1
	c.Validation = 32
	c.TrainLimit = 0
	c.Pretrain.Epochs = min(c.Pretrain.Epochs, 1)
	return c
}

// weightFingerprint returns the hash and the probes of a trainer's weights.
func weightFingerprint(tr *train.Trainer) (string, [4]float64) {
	h := sha256.New()
	var probe [4]float64
	n := 0
	add := func(xs []float64) {
		var b [8]byte
		for _, x := range xs {
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(x))
			h.Write(b[:])
			for k := range probe {
				probe[k] += x * math.Cos(float64(n)*0.37+float64(k)*1.3)
			}
			n++
		}
	}
	for i := range tr.Net.Forward {
		add(tr.Net.Forward[i].W.RawMatrix().Data)
		add(tr.Net.Forward[i].B.RawVector().Data)
		add(tr.Net.Feedback[i].Q.RawMatrix().Data)
	}
	return hex.EncodeToString(h.Sum(nil)), probe
}

// TestPresetWeights: every preset, trained briefly, ends with the weights
// recorded before the redesign of the core (bit for bit with the pure-Go
// backend).
func TestPresetWeights(t *testing.T) {
	for _, p := range All() {
		t.Run(p.Name, func(t *testing.T) {
			c := presetWeightsRun(p.Config())
			if c.Autoencoder() {
				t.Skip("added after the redesign; the autoencoder test covers it")
			}
			d, err := train.SplitData(c, synth.Set(432, 16, 3), synth.Set(64, 16, 4), dataset.UnitNorm)
			if err != nil {
				t.Fatal(err)
			}
			d.Classes = 4
			tr, err := train.New(c, d)
			if err != nil {
				t.Fatal(err)
			}
			for !tr.Done() {
				if _, err := tr.Next(context.Background(), nil); err != nil {
					t.Fatal(err)
				}
			}
			hash, probe := weightFingerprint(tr)
			want, ok := presetWeights[p.Name]
			if !ok {
				t.Logf("RECORD %q: {%q, [4]float64{%v, %v, %v, %v}},", p.Name, hash, probe[0], probe[1], probe[2], probe[3])
				t.Errorf("no recorded weights for preset %s", p.Name)
				return
			}
			switch b := compute.Backend(); {
			case b == "gonum":
				if hash != want.Hash {
					t.Errorf("weights hash %s, recorded %s", hash, want.Hash)
				}
			case strings.HasPrefix(b, "go-avx"):
				// Our AVX2 and AVX-512 kernels give the same bits
				// (compute.TestGemm512), and so does tanh on every path.
				asm, ok := asmWeights[p.Name]
				if !ok {
					t.Logf("RECORD ASM %q: %q,", p.Name, hash)
					t.Errorf("no recorded weights hash of the assembly kernels for preset %s", p.Name)
				} else if hash != asm {
					t.Errorf("weights hash %s with the assembly kernels (%s), recorded %s", hash, b, asm)
				}
			}
			if compute.Backend() != "gonum" && c.Spiking.On() {
				// A spike is a threshold on a random draw: another backend's
				// rounding may flip one and send the run elsewhere.
				return
			}
			for k := range probe {
				if d := math.Abs(probe[k] - want.Probe[k]); d > 1e-9*math.Max(1, math.Abs(want.Probe[k])) {
					t.Errorf("probe %d = %.17g, recorded %.17g", k, probe[k], want.Probe[k])
				}
			}
		})
	}
}

// asmWeights are the hashes (as in presetWeights) of the same runs with
// the default build's assembly kernels (backends go-avx2 and go-avx512,
// which give the same bits), recorded on 2026-12-03 (after the spiking presets took
// the filtered prediction; theirs again on 2026-12-04, τ_s = 0.03 and learn_from:
// intensity), so that the build every user and CI runs is pinned to the
// bit as well, spiking presets included.
var asmWeights = map[string]string{
	"fashion-mnist-bp":                 "2e21d186044f6d7a481cc2ac0c0478837c7f8e5d561abba7f547f0bcc3c8a36d",
	"fashion-mnist-dfc":                "ee7fc574acffadfbec25f0d36aed4b94f890cbd24dfabcd414dc3b3faf8e897c",
	"fashion-mnist-dfc-ss":             "3a0a308528b370c794f5776976e50ddec571ab6ff2134a406fefabc597ce68df",
	"fashion-mnist-dfc-ssa":            "24936908f492d3d5e63a41d7f1581c3a52a25a040f21800183e6d03e8305ca5b",
	"fashion-mnist-spiking-strong-dfc": "b302a24943c704deef3a6c57c442c11894efea057a566aa5eec04392c590fd2c",
	"fashion-mnist-strong-dfc":         "8c5b748acda26ea1b9779817e2e76ded631f4756847759b56ed2554492137f85",
	"fashion-mnist-strong-dfc-2phase":  "e865f7dc9ff252f53ee59b8e2cc8d052f67e28d55dbab86674b4b31eac8ef9c1",
	"mnist-bp":                         "810039074dbbdab46ea8bb8c20040392d383b9b78365327d8cac61358716e92d",
	"mnist-dfc":                        "16b8ceefabb4112a93ec547d1c4be289297eac75f4c98f0a51ee2f54ac8fe210",
	"mnist-dfc-ss":                     "1384019697cf7a2efca24dc80a158fc767773683608fcd4c9f9b107de3c2c266",
	"mnist-dfc-ssa":                    "f4783c97687b14209d420863c6e70eb42a49d25e3cf2237f2f5c36384e7c1ad1",
	"mnist-spiking-strong-dfc":         "ccb3de5c1adabd3c2ee4da420b69c95676848ceac1fa18a6f22c5d1c20a1ef1f",
	"mnist-strong-dfc":                 "ee7f64c5b0873d89c4c6e47cbdceac18a674181fb2c1bed22b0c5b6ee10ae941",
	"mnist-strong-dfc-2phase":          "eeb2f9da54637bffc0b734e2fe2a575706df63638defa2d18777e5949ab1c527",
	"fashion-mnist-strong-dfc-online":  "e3d2ebcb54c2e6495b7cc10c86c5b94cb0709525893490c44a91792d8f3320b4",
	"fashion-mnist-strong-dfc-stream":  "ec9608bd3861f56a61bc34f9641d08af3c115909bcee12297bfd3ea116f21109",
	"mnist-strong-dfc-online":          "72d9eda3c603355b927410bcb04a5c14dd5d099ad6583f3dc350d6bc16f15d39",
	"mnist-strong-dfc-stream":          "afa462c43d09d079e86311a54425918a6b23bc1e61a2e1e2727962dafd6ef493",
}
