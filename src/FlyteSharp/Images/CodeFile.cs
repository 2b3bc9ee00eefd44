namespace FlyteSharp.Images;

/// <summary>One file of a full build's code layer: its path under the code directory, where it is read from, its mode.</summary>
internal sealed record CodeFile(string RelativePath, string SourceFile, bool Executable);
