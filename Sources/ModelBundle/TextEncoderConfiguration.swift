import CLIPText

/// A caption model's text encoder as a bundle's `config.json` holds it in `text_encoder`: the
/// CLIP module's configuration itself (Hugging Face `CLIPTextConfig` names), so the two cannot drift.
public typealias TextEncoderConfiguration = CLIPTextConfiguration
