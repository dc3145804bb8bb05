"""The LLM engine's plumbing: client, prompts, structured output, retries, usage and cost."""
