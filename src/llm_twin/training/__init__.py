"""Training stage: LoRA SFT then DPO on the owner's own texts.

Not built yet: the datasets and fine-tuning issues fill this folder. `twin write` works without it,
from retrieval and the base model.
"""
