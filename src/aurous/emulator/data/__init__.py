"""Package data of the emulator: the LoRA catalogue and the sample video."""
