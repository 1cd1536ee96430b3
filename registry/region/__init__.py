"""The regional observer (issue 13): a Region or its observatory comparing its ambiti."""
