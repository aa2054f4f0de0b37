#!/usr/bin/env bash
# The GPU measurements of the paper's models, prepared as one run.
#
#   bash benchmarks/gpu_session.sh OUT [--smoke]
#
# On a machine with an NVIDIA GPU and JAX's CUDA build (plus Equinox, Optax, Numba, PyTorch), from
# the repository root, without installing the package (PYTHONPATH=.). Fashion-MNIST's four IDX files
# must be where vortexnumba.data.load finds them: set VORTEXNUMBA_DATA to their folder. pooch is
# imported to name the cache folder; where it is missing, install its wheel (and platformdirs') first.
#
# Writes, under OUT (a new or empty folder; on the device machine, $OUT itself keeps every file within
# the two folder levels that come back):
#   resnet18/   vortexnumba reproduce with resnet18 (results.json records the device)
#   vit/        the same with the paper-sized ViT
#   bench-gpu.md  benchmarks/bench_training.py --device gpu: JAX against PyTorch, CNN and ResNet-18
#   log.txt     everything printed
#
# Epochs: EPOCHS_RESNET (default 15) and EPOCHS_VIT (default 15). Budget before running: the smoke
# run times one epoch per model; the full run is about 6 transforms x epochs x that.
#
# --smoke runs the same code path on any machine (CPU included) with 512 training and 256 test
# images, one epoch, two transforms, and the training benchmark's CPU quick mode: test the script
# here before spending device time on it.
set -euo pipefail

out=${1:?usage: bash benchmarks/gpu_session.sh OUT [--smoke]}
smoke=${2:-}
if [[ -e "$out" && ! ( -d "$out" && -z "$(ls -A "$out")" ) ]]; then
    echo "gpu_session.sh: $out exists and is not an empty folder; choose a new one" >&2
    exit 2
fi
mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 MPLBACKEND=Agg
py=${PYTHON:-python3}
exec > >(tee -a "$out/log.txt") 2>&1

"$py" - <<'EOF'
import jax, platform
print("JAX", jax.__version__, "backend", jax.default_backend(), "devices", jax.devices(), "Python", platform.python_version())
EOF

transforms=origin,vor,random,perm,block,vor-paper
limits=()
bench=(--device gpu --models cnn,resnet18 --rounds 2)
e_resnet=${EPOCHS_RESNET:-15}
e_vit=${EPOCHS_VIT:-15}
if [[ "$smoke" == "--smoke" ]]; then
    transforms=origin,vor
    limits=(--train-limit 512 --test-limit 256 --info-loss-limit 64)
    bench=(--quick)
    e_resnet=1
    e_vit=1
fi

run_model() {  # model epochs learning-rate
    local t0=$SECONDS
    "$py" -m vortexnumba reproduce --dataset fashion-mnist --models "$1" --epochs "$2" --batch-size 128 \
        --learning-rate "$3" --transforms "$transforms" --seed 0 --out "$out/$1" --no-progress "${limits[@]}"
    echo "gpu_session.sh: $1 took $((SECONDS - t0)) s"
}

run_model resnet18 "$e_resnet" 1e-3
run_model vit "$e_vit" 1e-3
t0=$SECONDS
"$py" benchmarks/bench_training.py "${bench[@]}" --out "$out/bench-gpu.md"
echo "gpu_session.sh: training benchmark took $((SECONDS - t0)) s"
