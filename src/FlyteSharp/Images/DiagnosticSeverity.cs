namespace FlyteSharp.Images;

/// <summary>How serious an <see cref="ImageDiagnostic"/> is.</summary>
public enum DiagnosticSeverity
{
    /// <summary>Works, but costs rebuilds, reproducibility or clarity.</summary>
    Warning,

    /// <summary>Will fail or silently do the wrong thing.</summary>
    Error,
}
