#!/bin/bash
# genre scan of one music library on a Slurm cluster, as a job array: each task takes its
# deterministic share of the manifest (--shard auto reads SLURM_ARRAY_TASK_ID and
# SLURM_ARRAY_TASK_COUNT) and writes its own SQLite database and Parquet part.
#   sbatch deploy/slurm-array.sh /shared/library.txt /shared/genre
# A failed or preempted task is simply resubmitted (sbatch --array=7 ...): it skips what its
# database already holds. When all tasks are done:
#   genre scan --merge /shared/genre/parts --db /shared/genre/all.sqlite
#SBATCH --job-name=genre-scan
#SBATCH --array=0-63
#SBATCH --cpus-per-task=4
#SBATCH --mem=4G
#SBATCH --time=04:00:00
#SBATCH --requeue
set -euo pipefail
manifest=${1:?usage: sbatch slurm-array.sh MANIFEST OUT_DIR}
out=${2:?usage: sbatch slurm-array.sh MANIFEST OUT_DIR}
mkdir -p "$out/parts" "$out/db"
export RAYON_NUM_THREADS=${SLURM_CPUS_PER_TASK:-4}
exec genre scan "$manifest" --shard auto -q \
  --db "$out/db/shard-${SLURM_ARRAY_TASK_ID}.sqlite" \
  --export "$out/parts/part-${SLURM_ARRAY_TASK_ID}.parquet"
