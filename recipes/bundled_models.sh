#!/usr/bin/env bash
# How the bundled models in models/ were made, stage by stage (CPU, 2 cores; about 2 hours).
# Each training command resumes from OUT.state if interrupted. DATA defaults to ./data.
set -euo pipefail
DATA=${DATA:-data}

# Stage 1: 4.9 h of festival speech (kal, ked); OTTC model with a supervised warm start, and the
# CTC twin, trained side by side with one thread each, on an 1100/1200-step schedule stopped at
# step 800 (to give stage 2 the time).
otalign synth "$DATA/synth" --hours 4 --seed 0 --voice kal --voice ked
otalign train "$DATA/synth" "$DATA/stage1-ottc.pt" --kind ottc --steps 1100 --batch-seconds 60 \
    --warmup 60 --supervised-steps 300 --stop-after 800 --threads 1 --name en-ottc-stage1 &
otalign train "$DATA/synth" "$DATA/stage1-ctc.pt" --kind ctc --steps 1200 --batch-seconds 60 \
    --warmup 60 --stop-after 800 --threads 1 --name en-ctc-stage1 &
wait

# Stage 2: add a corpus with every engine (festival, flite awb/kal16, espeak-ng accents and
# variants) and fine-tune both models from stage 1 on the two corpora together.
otalign synth "$DATA/synth2" --hours 14 --seed 1 --jobs 2
otalign train "$DATA/synth" models/en-ottc.pt --add-corpus "$DATA/synth2" --kind ottc --init "$DATA/stage1-ottc.pt" \
    --steps 1700 --batch-seconds 60 --lr 1e-3 --warmup 50 --supervised-steps 0 --threads 1 --name en-ottc &
otalign train "$DATA/synth" models/en-ctc.pt --add-corpus "$DATA/synth2" --kind ctc --init "$DATA/stage1-ctc.pt" \
    --steps 1700 --batch-seconds 60 --lr 1e-3 --warmup 50 --threads 1 --name en-ctc &
wait
