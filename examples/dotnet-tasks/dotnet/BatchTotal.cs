namespace DotnetTasks;

/// <summary>What pricing one batch gives.</summary>
/// <param name="Lines">Number of order lines in the batch.</param>
/// <param name="Total">Sum of quantity × unit price, rounded to cents.</param>
public sealed record BatchTotal(int Lines, double Total);
