// Package sweep runs studies: many runs of configurations and seeds, on
// this machine or on a Slurm cluster, and one table from all their run
// folders.
//
// A sweep file (YAML, Load) names a base configuration (a preset, a
// configuration file, common changes), the configurations made from it
// (a list, a grid, or both) and the seeds. Plan resolves and validates
// every run before anything starts, and gives each its run folder, named
// after the values that vary ("mnist-bp_forward.lr=1e-3_seed=2"): the
// same file always names a run the same, and no two runs share a folder.
//
// The run folders are the only state. A finished run's summary.json
// says "done"; a run under way holds its folder's lock
// (runfolder.TryLock, an flock that ends with its process); Inspect
// tells pending, running, interrupted, done, diverged and failed runs
// apart from that alone. Exec brings runs to their end with the
// semantics of `train --resume`, so that whoever runs a sweep again —
// the same executor after a crash, or a requeued Slurm task — redoes
// nothing that finished.
//
// Executors: RunLocal runs N runs at once, each in a process of its own;
// PrepareSlurm and Submission.Submit write a batch script and submit it
// as job arrays (split at MaxArray tasks, throttled, chained), whose
// tasks run `strongdfc sweep exec` on a frozen task file.
//
// Scan and NewTable read every run folder beneath some folders
// (config.yaml and summary.json only, many at once) and group the runs
// by configuration, all keys but the seed: mean and standard deviation
// over the seeds that finished, and per row the runs that did not.
package sweep
