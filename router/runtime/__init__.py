"""The LiveKit shell: feeds DTMF, timers and transfer results to the navigator, carries out its effects."""
