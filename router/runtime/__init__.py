"""The LiveKit shell: feeds the navigator DTMF, timers and transfer results; carries out effects."""
