"""English text front-end: normalization, lexicon, G2P, token ids."""
