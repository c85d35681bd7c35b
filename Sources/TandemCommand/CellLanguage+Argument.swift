import ArgumentParser
import TandemKernel

extension CellLanguage: ExpressibleByArgument {}
