from setuptools import setup, find_packages

setup(name="ml_genn_delays",
      version="0.1.0",
      description="Learnable spike delays (synaptic, axonal, dendritic) "
                  "for mlGeNN's EventProp compiler",
      packages=find_packages(include=["ml_genn_delays", "ml_genn_delays.*"]),
      python_requires=">=3.8",
      # GeNN and mlGeNN are installed from source as their own docs
      # describe (see README.md); they are declared here by name only
      install_requires=["pygenn>=5.4,<6", "ml_genn>=2.3,<3", "numpy",
                        "tonic", "tqdm", "matplotlib", "h5py", "pandas"],
      extras_require={"test": ["pytest", "mpi4py", "mpich"],
                      # benchmarks/gpu_shd.py: DCLS baseline, GPU memory
                      "bench": ["torch", "dcls", "nvidia-ml-py"]})
