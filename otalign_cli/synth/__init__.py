"""The training-corpus recipe: TTS engines that report exact phone times."""

# Reserved for independent evaluation of the bundled models: never used for training or dev data.
RESERVED_VOICES = frozenset({"rms", "slt", "cmu_us_rms", "cmu_us_slt", "cmu_us_slt_arctic_hts"})
