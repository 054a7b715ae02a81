public enum VQGANPlaceholder {}
