"""The two engines behind one interface: offline (default) and an OpenAI-compatible LLM."""
