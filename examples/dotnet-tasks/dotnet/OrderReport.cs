namespace DotnetTasks;

/// <summary>The pipeline's result.</summary>
/// <param name="Lines">Order lines priced over all batches.</param>
/// <param name="Totals">Each batch's total, in batch order.</param>
/// <param name="Summary">Statistics of the totals (computed by the Python task).</param>
public sealed record OrderReport(int Lines, IReadOnlyList<double> Totals, Summary Summary);
