"""The run's reports: the terminal summary, the JSON run document and Markdown (English, Chinese)."""
