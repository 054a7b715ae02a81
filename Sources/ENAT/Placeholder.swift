public enum ENATPlaceholder {}
