"""Audio capture: streams and files through PyAV, sound cards through sounddevice."""
